namespace Spector.Tests.Tool;

/// <summary>tools/verify-chain (Node's crypto and the public "canonicalize" package), installed on first use.</summary>
internal static class IndependentVerifier
{
    private static readonly string Folder = Path.Combine(ToolProcess.Root, "tools", "verify-chain");
    private static readonly SemaphoreSlim Install = new(1, 1);

    public static async Task<ToolRun> RunAsync(string file, string head)
    {
        await Install.WaitAsync();
        try
        {
            if (!Directory.Exists(Path.Combine(Folder, "node_modules", "canonicalize")))
                await ToolProcess.RunAsync("npm", Folder, null, "ci", "--no-audit", "--no-fund");
        }
        finally
        {
            Install.Release();
        }
        return await ToolProcess.RunAsync("node", Folder, null, "verify.mjs", file, head);
    }
}
