using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Database;

/// <summary>
/// The embedded cluster starts before the host is built; when it cannot start, the service stops at once with exit
/// code 2 and a message that names the folder and says what to do, without a stack trace.
/// </summary>
public sealed class EmbeddedStartupTests
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact(Timeout = 120_000)]
    public async Task A_cluster_that_cannot_start_stops_the_service_with_exit_code_2_and_a_clear_message()
    {
        const string folder = "/dev/null/rectify-postgres"; // under a file: the folder cannot be made
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => ApiProcess.StartAsync(new Dictionary<string, string>
        {
            ["Database__EmbeddedRoot"] = folder,
            ["Database__LoadDemoData"] = "false",
        }, Ct));
        Assert.Contains("exited with 2", failure.Message, StringComparison.Ordinal);
        Assert.Contains($"The embedded PostgreSQL cluster in {folder} could not be started", failure.Message, StringComparison.Ordinal);
        Assert.Contains("ConnectionStrings__Rectify", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", failure.Message, StringComparison.Ordinal);
    }
}
