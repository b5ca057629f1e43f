using Rectify.Api.Tests.GeneratedClients;

namespace Rectify.Api.Tests.Deploy;

/// <summary>
/// No container engine runs here: compose.yaml is checked against the Compose specification's schema (and dclint's
/// correctness rules) by the pinned dclint of tests/Deploy, installed with npm ci. Needs node and npm, like the
/// generated-client tests; a missing tool fails the test.
/// </summary>
public sealed class ComposeFileTests
{
    [Fact(Timeout = 300_000)]
    public async Task Compose_file_is_valid_and_a_broken_one_is_caught()
    {
        using var stage = ClientStage.CopyOfFolder(Path.Combine("tests", "Deploy"));
        await stage.RunAsync("npm", ["ci", "--no-audit", "--no-fund"]);
        var compose = Path.Combine(ClientStage.RepositoryRoot, "compose.yaml");
        await stage.RunAsync("npx", ["dclint", "--config", ".dclintrc.json", compose]);

        // The check is real: a misspelt key in a service fails it.
        var broken = Path.Combine(stage.Folder, "compose.yaml");
        await File.WriteAllTextAsync(broken, (await File.ReadAllTextAsync(compose, TestContext.Current.CancellationToken))
            .Replace("stop_grace_period:", "stop_grace_periods:", StringComparison.Ordinal), TestContext.Current.CancellationToken);
        var failure =
            await Assert.ThrowsAsync<InvalidOperationException>(() => stage.RunAsync("npx", ["dclint", "--config", ".dclintrc.json", broken]));
        Assert.Contains("invalid-schema", failure.Message, StringComparison.Ordinal);
    }
}
