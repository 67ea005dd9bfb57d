using System.IO.Compression;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Xml.Linq;

namespace Spector.Tests;

/// <summary>
/// "Works in the test harness, broken in the package" is the most common generator bug: pack the real
/// packages once (Spector.Core, the two providers and the Spector bundle), restore them from a folder feed into
/// projects outside the solution, build and run them.
/// </summary>
[TestFixture]
[Category("Packaging")]
public sealed class PackagingTests
{
    private string _work = "";
    private string _feed = "";
    private string _version = "";

    [OneTimeSetUp]
    public async Task PackOnce()
    {
        _work = Directory.CreateTempSubdirectory("spector-pack-").FullName;
        // A version no earlier run used, so NuGet's global cache cannot serve a stale copy.
        _version = $"0.1.0-local.{DateTime.UtcNow:yyyyMMddHHmmssfff}";
        _feed = Path.Combine(_work, "feed");
        foreach (var project in new[] { "Spector.Core", "Spector.Sqlite", "Spector.PostgreSql", "Spector" })
            await Dotnet.RunAsync(
                Dotnet.Root,
                "pack",
                Path.Combine(Dotnet.Root, "src", project, project + ".csproj"),
                "-c",
                "Release",
                "-o",
                _feed,
                $"-p:Version={_version}"
            );
    }

    [OneTimeTearDown]
    public void Clean() => Directory.Delete(_work, recursive: true);

    private string PackageOf(string id) => Path.Combine(_feed, $"{id}.{_version}.nupkg");

    private string Package => PackageOf("Spector.Core");

    [Test]
    public void The_core_package_holds_the_runtime_the_analyzers_and_the_build_files()
    {
        using var zip = ZipFile.OpenRead(Package);
        var entries = zip.Entries.Select(e => e.FullName).ToList();
        Assert.That(entries, Does.Contain("lib/net10.0/Spector.dll"));
        Assert.That(entries, Does.Contain("analyzers/dotnet/cs/Spector.Generators.dll"));
        Assert.That(entries, Does.Contain("analyzers/dotnet/cs/Spector.Analyzers.dll"));
        Assert.That(entries, Does.Contain("analyzers/dotnet/cs/Spector.CodeFixes.dll"));
        // NuGet imports build files named after the package id only.
        Assert.That(entries, Does.Contain("build/Spector.Core.targets"));
        Assert.That(entries, Does.Contain("buildTransitive/Spector.Core.targets"));
        Assert.That(entries, Does.Contain("buildMultiTargeting/Spector.Core.targets"));
    }

    [Test]
    public void The_core_package_and_its_assembly_depend_on_no_database_driver()
    {
        var dependencies = Dependencies("Spector.Core").Keys;
        Assert.That(dependencies, Does.Contain("Dapper"));
        Assert.That(
            dependencies,
            Has.None.StartsWith("Npgsql")
                .And.None.StartsWith("Microsoft.Data.Sqlite")
                .And.None.StartsWith("SQLitePCLRaw")
        );
        using var zip = ZipFile.OpenRead(Package);
        var references = References(zip, "lib/net10.0/Spector.dll");
        Assert.That(references, Does.Contain("Dapper"), "the check reads real references");
        Assert.That(
            references,
            Has.None.StartsWith("Npgsql")
                .And.None.StartsWith("Microsoft.Data.Sqlite")
                .And.None.StartsWith("SQLitePCLRaw")
        );
    }

    [Test]
    public void Each_provider_package_holds_its_assembly_over_the_core_and_its_driver()
    {
        foreach (
            var (id, driver) in new[] { ("Spector.Sqlite", "Microsoft.Data.Sqlite"), ("Spector.PostgreSql", "Npgsql") }
        )
        {
            using var zip = ZipFile.OpenRead(PackageOf(id));
            Assert.That(zip.Entries.Select(e => e.FullName), Does.Contain($"lib/net10.0/{id}.dll"), id);
            var dependencies = Dependencies(id);
            Assert.That(dependencies.Keys, Is.EquivalentTo(new[] { "Spector.Core", driver }), id);
            // The generator, analyzers and build files of the core reach a project that references only the provider.
            Assert.That(dependencies["Spector.Core"], Is.Null.Or.Empty, $"{id} excludes assets of Spector.Core");
        }
    }

    [Test]
    public void The_Spector_package_is_the_SQLite_bundle_and_holds_no_code_of_its_own()
    {
        using var zip = ZipFile.OpenRead(PackageOf("Spector"));
        Assert.That(
            zip.Entries.Select(e => e.FullName).Where(e => e.StartsWith("lib/", StringComparison.Ordinal)),
            Is.Empty
        );
        var dependencies = Dependencies("Spector");
        Assert.That(dependencies.Keys, Is.EquivalentTo(new[] { "Spector.Core", "Spector.Sqlite" }));
        Assert.That(
            dependencies.Values,
            Has.All.Null.Or.Empty,
            "an exclude would keep the generator or build files from the app"
        );
    }

    [Test]
    public void The_generator_and_analyzers_reference_the_Roslyn_floor_so_older_compilers_load_them()
    {
        using var zip = ZipFile.OpenRead(Package);
        foreach (var name in new[] { "Spector.Generators.dll", "Spector.Analyzers.dll" })
        {
            // A compiler refuses (CS9057) an analyzer that references a newer Microsoft.CodeAnalysis than itself.
            var compiler = ReferencedVersion(zip, "analyzers/dotnet/cs/" + name, "Microsoft.CodeAnalysis");
            Assert.That(compiler, Is.LessThanOrEqualTo(new Version(4, 3, 0, 0)), name);
        }
    }

    [Test]
    public async Task The_packed_package_builds_and_runs_a_consumer_from_a_folder_feed()
    {
        var consumer = Consumer("current");

        var output = await Dotnet.RunAsync(
            consumer,
            "run",
            "--project",
            Path.Combine(consumer, "PackageConsumer.csproj"),
            $"-p:SpectorVersion={_version}"
        );

        Assert.That(output, Does.Contain("consumer ok: gadget stock 5, 3 events"));
    }

    [Test]
    public async Task An_older_compiler_loads_the_generator_and_builds_the_consumer()
    {
        // The compiler of the .NET 9.0.3xx SDK (Roslyn 4.14), from its package, in place of the SDK's own 5.9.
        var consumer = Consumer("roslyn-4.14");
        var project = Path.Combine(consumer, "PackageConsumer.csproj");
        File.WriteAllText(
            project,
            File.ReadAllText(project)
                .Replace(
                    "</Project>",
                    """
                      <ItemGroup>
                        <PackageReference Include="Microsoft.Net.Compilers.Toolset" Version="4.14.0"
                                          PrivateAssets="all" />
                      </ItemGroup>
                      <!-- The SDK keeps its own compiler unless told the package provides one. -->
                      <PropertyGroup><RoslynCompilerType>Package</RoslynCompilerType></PropertyGroup>
                    </Project>
                    """
                )
        );

        // Roslyn 4.14 reads C# 13: the providers' extension members (PackageEvents.UseSqlite) are C# 14, so such a
        // project makes its store through the provider, as docs/packaging.md says; the generated code itself is C# 13.
        var program = Path.Combine(consumer, "Program.cs");
        File.WriteAllText(
            program,
            File.ReadAllText(program)
                .Replace(
                    "PackageEvents.UseSqlite($\"Data Source={file}\");",
                    "PackageEvents.Log.Use(SqliteProvider.Instance.CreateStore($\"Data Source={file}\", null).Store);"
                )
        );
        Assert.That(File.ReadAllText(program), Does.Contain("SqliteProvider.Instance"));

        var output = await Dotnet.RunAsync(
            consumer,
            "run",
            "--project",
            project,
            $"-p:SpectorVersion={_version}",
            "-v:n"
        );

        Assert.That(
            output,
            Does.Contain("microsoft.net.compilers.toolset/4.14.0/tasks/netcore/bincore/csc.dll"),
            "the build did not use the older compiler"
        );
        Assert.That(output, Does.Not.Contain("CS9057"));
        // The consumer calls generated members (InsertAsync, RestockAsync, GetAtAsync): it runs only if generation ran.
        Assert.That(output, Does.Contain("consumer ok: gadget stock 5, 3 events"));
    }

    [Test]
    public async Task The_packaged_analyzers_fail_a_build_whose_locked_action_was_renamed()
    {
        var consumer = Consumer("renamed");
        // Nothing wires the file: the package's build targets pick up spector.lock beside the project.
        File.WriteAllText(
            Path.Combine(consumer, "spector.lock"),
            """
            schema events 0 Item v1
            action events Item restock 1856959343
            action events Item discontinue 12345
            """
        );

        var (code, text) = await Dotnet.RawAsync(
            consumer,
            "build",
            Path.Combine(consumer, "PackageConsumer.csproj"),
            $"-p:SpectorVersion={_version}"
        );

        Assert.That(code, Is.Not.EqualTo(0), text);
        Assert.That(text, Does.Contain("error SPEC022").And.Contain("'discontinue'"));
    }

    [Test]
    public async Task A_new_package_consumer_is_asked_for_a_lock_and_the_SpectorLock_target_writes_it()
    {
        var consumer = Consumer("new");
        var lockFile = Path.Combine(consumer, "spector.lock");
        File.Delete(lockFile);
        await NewProjectFlowAsync(
            consumer,
            Path.Combine(consumer, "PackageConsumer.csproj"),
            $"-p:SpectorVersion={_version}"
        );
    }

    [Test]
    public async Task The_SpectorLock_target_keeps_an_absolute_artifacts_path_out_of_the_project_folder()
    {
        // Artifacts output makes BaseIntermediateOutputPath absolute; the target once prefixed it with the project
        // folder, so the lock build emitted its *.g.cs files into the project and the next build compiled them.
        var consumer = Consumer("artifacts");
        File.Delete(Path.Combine(consumer, "spector.lock"));
        var artifacts = Path.Combine(_work, "artifacts-out");
        await NewProjectFlowAsync(
            consumer,
            Path.Combine(consumer, "PackageConsumer.csproj"),
            $"-p:SpectorVersion={_version}",
            $"-p:ArtifactsPath={artifacts}",
            "-p:UseArtifactsOutput=true"
        );

        Assert.That(Directory.GetFiles(consumer, "*.g.cs", SearchOption.AllDirectories), Is.Empty);
        Assert.That(Directory.GetFiles(artifacts, "spector.lock.g.cs", SearchOption.AllDirectories), Is.Not.Empty);
    }

    [Test]
    public async Task A_project_reference_consumer_gets_the_same_lock_setup_from_the_documented_snippet()
    {
        var consumer = Path.Combine(_work, "project-reference");
        Directory.CreateDirectory(consumer);
        File.Copy(
            Path.Combine(Dotnet.Root, "tests", "PackageConsumer", "Program.cs"),
            Path.Combine(consumer, "Program.cs")
        );
        var src = Path.Combine(Dotnet.Root, "src");
        // The snippet of docs/packaging.md, with this checkout's paths.
        var project = Path.Combine(consumer, "ProjectReferenceConsumer.csproj");
        File.WriteAllText(
            project,
            $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <NoWarn>$(NoWarn);NU1603</NoWarn>
                <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
              </PropertyGroup>
              <ItemGroup>
                <ProjectReference Include="{src}/Spector.Core/Spector.Core.csproj" />
                <ProjectReference Include="{src}/Spector.Sqlite/Spector.Sqlite.csproj" />
                <ProjectReference Include="{src}/Spector.Generators/Spector.Generators.csproj"
                                  OutputItemType="Analyzer" ReferenceOutputAssembly="false" />
                <ProjectReference Include="{src}/Spector.Analyzers/Spector.Analyzers.csproj"
                                  OutputItemType="Analyzer" ReferenceOutputAssembly="false" />
              </ItemGroup>
              <Import Project="{src}/Spector.Core/build/Spector.Core.targets" />
            </Project>
            """
        );

        await NewProjectFlowAsync(consumer, project);

        // The analyzers are loaded too: a renamed locked action fails the build.
        File.AppendAllText(Path.Combine(consumer, "spector.lock"), "action events Item discontinue 12345\n");
        var (code, text) = await Dotnet.RawAsync(consumer, "build", project);
        Assert.That(code, Is.Not.EqualTo(0), text);
        Assert.That(text, Does.Contain("error SPEC022").And.Contain("'discontinue'"));
    }

    [Test]
    public async Task A_PostgreSQL_consumer_references_only_Spector_PostgreSql_and_carries_no_SQLite()
    {
        var connectionString = PostgresServer.DataSource.ConnectionString;
        var consumer = Path.Combine(_work, "postgres-only");
        Directory.CreateDirectory(consumer);
        File.WriteAllText(
            Path.Combine(consumer, "nuget.config"),
            File.ReadAllText(Path.Combine(Consumer("postgres-feed"), "nuget.config"))
        );
        var project = Path.Combine(consumer, "PostgresConsumer.csproj");
        File.WriteAllText(
            project,
            File.ReadAllText(Path.Combine(Dotnet.Root, "tests", "PackageConsumer", "PackageConsumer.csproj"))
                .Replace("Include=\"Spector\"", "Include=\"Spector.PostgreSql\"")
                // No lock for this throwaway table: SPEC041 would otherwise fail the build.
                .Replace("<NoWarn>$(NoWarn);NU1603</NoWarn>", "<NoWarn>$(NoWarn);NU1603;SPEC041</NoWarn>")
        );
        // The same program on PostgreSQL, with a table no other test uses (the schema is shared by the run).
        var table = $"pkg_{Guid.NewGuid():N}";
        File.WriteAllText(
            Path.Combine(consumer, "Program.cs"),
            File.ReadAllText(Path.Combine(Dotnet.Root, "tests", "PackageConsumer", "Program.cs"))
                .Replace(
                    "var file = Path.Combine(Path.GetTempPath(), $\"spector-consumer-{Guid.NewGuid():N}.db\");\n",
                    ""
                )
                .Replace(
                    "PackageEvents.UseSqlite($\"Data Source={file}\");",
                    "PackageEvents.UsePostgres(Npgsql.NpgsqlDataSource.Create(args[0]));"
                )
                .Replace("[EventsTable(\"events\")]", $"[EventsTable(\"{table}_events\")]")
                .Replace("Table = \"items\"", $"Table = \"{table}_items\"")
        );
        Assert.That(
            File.ReadAllText(Path.Combine(consumer, "Program.cs")),
            Does.Contain("UsePostgres").And.Contain(table + "_items")
        );

        var output = await Dotnet.RunAsync(
            consumer,
            "run",
            "--project",
            project,
            $"-p:SpectorVersion={_version}",
            "--",
            connectionString
        );

        Assert.That(output, Does.Contain("consumer ok: gadget stock 5, 3 events"));
        var bin = Path.Combine(consumer, "bin");
        Assert.That(Directory.GetFiles(bin, "Npgsql.dll", SearchOption.AllDirectories), Is.Not.Empty);
        Assert.That(
            Directory.GetFiles(bin, "*.dll", SearchOption.AllDirectories).Select(Path.GetFileName),
            Has.None.Contains("Sqlite").And.None.Contains("SQLite")
        );
        Assert.That(
            Directory.GetFiles(bin, "*sqlite3*", SearchOption.AllDirectories),
            Is.Empty,
            "SQLite's native library"
        );
    }

    /// <summary>
    /// No lock: the build names SPEC041 (an error here, the consumer treats warnings as errors); `-t:SpectorLock`
    /// writes
    /// the committed lock's exact lines; the build then passes and the consumer runs.
    /// </summary>
    private static async Task NewProjectFlowAsync(string consumer, string project, params string[] properties)
    {
        var (code, text) = await Dotnet.RawAsync(consumer, ["build", project, .. properties]);
        Assert.That(code, Is.Not.EqualTo(0), text);
        Assert.That(text, Does.Contain("SPEC041").And.Contain("dotnet build -t:SpectorLock"));

        var written = await Dotnet.RunAsync(consumer, ["build", project, "-t:SpectorLock", .. properties]);

        Assert.That(written, Does.Contain("Spector: wrote"));
        var expected = File.ReadAllText(Path.Combine(Dotnet.Root, "tests", "PackageConsumer", "spector.lock"));
        Assert.That(File.ReadAllText(Path.Combine(consumer, "spector.lock")), Is.EqualTo(expected));
        var output = await Dotnet.RunAsync(consumer, ["run", "--project", project, .. properties]);
        Assert.That(output, Does.Contain("consumer ok: gadget stock 5, 3 events"));
    }

    /// <summary>A copy of tests/PackageConsumer restoring Spector from the folder feed.</summary>
    private string Consumer(string name)
    {
        var consumer = Path.Combine(_work, name);
        Directory.CreateDirectory(consumer);
        foreach (var file in new[] { "PackageConsumer.csproj", "Program.cs", "spector.lock" })
            File.Copy(Path.Combine(Dotnet.Root, "tests", "PackageConsumer", file), Path.Combine(consumer, file));
        // Adds the folder feed to the machine's sources (no <clear/>), so Dapper and the drivers still restore.
        File.WriteAllText(
            Path.Combine(consumer, "nuget.config"),
            $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="spector-local" value="{_feed}" />
              </packageSources>
            </configuration>
            """
        );
        return consumer;
    }

    /// <summary>The package's dependencies (id to its <c>exclude</c> attribute) as its nuspec lists them.</summary>
    private Dictionary<string, string?> Dependencies(string id)
    {
        using var zip = ZipFile.OpenRead(PackageOf(id));
        using var stream = zip.GetEntry($"{id}.nuspec")!.Open();
        return XDocument
            .Load(stream)
            .Descendants()
            .Where(e => e.Name.LocalName == "dependency")
            .ToDictionary(e => (string)e.Attribute("id")!, e => (string?)e.Attribute("exclude"));
    }

    private static string[] References(ZipArchive zip, string entry)
    {
        using var stream = new MemoryStream();
        using (var source = zip.GetEntry(entry)!.Open())
            source.CopyTo(stream);
        stream.Position = 0;
        using var pe = new PEReader(stream);
        var reader = pe.GetMetadataReader();
        return [.. reader.AssemblyReferences.Select(r => reader.GetString(reader.GetAssemblyReference(r).Name))];
    }

    private static Version ReferencedVersion(ZipArchive zip, string entry, string assembly)
    {
        using var stream = new MemoryStream();
        using (var source = zip.GetEntry(entry)!.Open())
            source.CopyTo(stream);
        stream.Position = 0;
        using var pe = new PEReader(stream);
        var reader = pe.GetMetadataReader();
        return reader
            .AssemblyReferences.Select(reader.GetAssemblyReference)
            .Single(r => reader.GetString(r.Name) == assembly)
            .Version;
    }
}
