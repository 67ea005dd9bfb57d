using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Spector.Diagnostics;

namespace Spector.Analyzers.Usage;

/// <summary>
/// Points at declared actions that run through the default handler (hidden: it is allowed), so the IDE can offer
/// to generate a typed <c>[OnAction]</c> handler stub.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ActionHandlerAnalyzer : DiagnosticAnalyzer
{
    /// <summary>Diagnostic property naming the action.</summary>
    public const string ActionProperty = "SpectorAction";

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(DiagnosticDescriptors.ActionWithoutHandler);

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterSymbolAction(AnalyzeType, SymbolKind.NamedType);
    }

    private static void AnalyzeType(SymbolAnalysisContext context)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        var evented = type.GetAttributes()
            .FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == "Spector.EventedAttribute");
        if (
            evented?.NamedArguments.FirstOrDefault(n => n.Key == "Actions").Value
            is not { Kind: TypedConstantKind.Array } actions
        )
            return;
        var handled = type.GetMembers()
            .OfType<IMethodSymbol>()
            .SelectMany(m => m.GetAttributes())
            .Where(a =>
                a.AttributeClass?.ToDisplayString() == "Spector.OnActionAttribute" && a.ConstructorArguments.Length == 1
            )
            .Select(a => a.ConstructorArguments[0].Value as string)
            .ToImmutableHashSet();
        var location =
            evented.ApplicationSyntaxReference?.GetSyntax(context.CancellationToken).GetLocation() ?? Location.None;
        foreach (var action in actions.Values.Select(v => v.Value as string))
            if (action is not null && !handled.Contains(action))
                context.ReportDiagnostic(
                    Diagnostic.Create(
                        DiagnosticDescriptors.ActionWithoutHandler,
                        location,
                        ImmutableDictionary<string, string?>.Empty.Add(ActionProperty, action),
                        action,
                        type.Name
                    )
                );
    }
}
