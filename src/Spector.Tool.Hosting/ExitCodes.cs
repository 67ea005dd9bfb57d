namespace Spector.Tool;

/// <summary>What the spector commands exit with, so CI can tell a broken chain from a broken setup.</summary>
public static class ExitCodes
{
    /// <summary>The command did its work; for verify, every chain and savepoint checked out.</summary>
    public const int Ok = 0;

    /// <summary>The command could not run: bad arguments, unknown provider, unreachable database, a failed
    /// statement.</summary>
    public const int Error = 1;

    /// <summary>verify found a broken hash chain or a savepoint that disagrees with its replay.</summary>
    public const int VerificationFailed = 2;

    /// <summary>The assembly (or app) declares no events tables, so there is nothing to work on.</summary>
    public const int NoEventsTables = 3;
}
