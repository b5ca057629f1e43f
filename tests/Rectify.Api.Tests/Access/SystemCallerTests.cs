using Microsoft.Extensions.DependencyInjection;
using Rectify.Api.Domain;
using Rectify.Api.Features.Issues;
using Rectify.Api.Features.SignOffs;
using Rectify.Api.Features.Snapshots;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Tests.Infrastructure;
using Rectify.Api.Tests.Issues;
using Rectify.Api.Tests.Snapshots;

namespace Rectify.Api.Tests.Access;

/// <summary>
/// Outside a request nobody is authenticated: the service's own work (month-end drafts, start-up, the command line)
/// acts as the system only in a scope made for it, never merely because no request is running.
/// </summary>
public sealed class SystemCallerTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly IssueKit _issues = new(app);

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Outside_a_request_the_caller_is_anonymous_and_holds_no_scope()
    {
        await using var scope = app.Services.CreateAsyncScope();
        var caller = scope.ServiceProvider.GetRequiredService<Caller>();

        Assert.False(caller.IsAuthenticated);
        Assert.Equal(Caller.Anonymous, caller.Name);
        Assert.Empty(caller.Scopes);
        Assert.False(caller.Holds(Scopes.Review));
    }

    [Fact]
    public async Task A_system_scope_acts_as_the_system_with_every_scope_and_unit()
    {
        await using var scope = app.Services.CreateSystemScope();
        var caller = scope.ServiceProvider.GetRequiredService<Caller>();

        Assert.True(caller.IsAuthenticated);
        Assert.Equal(Caller.System, caller.Name);
        Assert.Equal(Scopes.All, caller.Scopes);
        Assert.Null(caller.Units);
        Assert.Null(caller.ReadableUnits);
    }

    [Fact]
    public async Task Signing_off_outside_a_request_is_refused_without_the_system_identity_and_journalled_as_the_system_with_it()
    {
        var round = await _issues.Seed.RoundAsync();
        var id = IssueKit.Id(await _issues.Seed.IssueAsync(round));
        await _issues.MoveAsync(id, "in_progress");
        await _issues.MoveAsync(id, "pending_review");
        var signOff = await _issues.LatestSignOffAsync(id);
        var accept = new DecideSignOffRequest { Decision = SignOffDecision.Accept, Comment = "整改到位，同意销号。" };

        await using (var plain = app.Services.CreateAsyncScope())
        {
            var refusal = await Assert.ThrowsAsync<Refusal>(
                () => plain.ServiceProvider.GetRequiredService<SignOffUseCases>().DecideAsync(id, signOff, accept, null, Ct));
            Assert.Equal(RefusalKind.Forbidden, refusal.Kind);
        }
        Assert.Equal("pending_review", IssueKit.State((await _issues.ReadAsync(id)).Issue));

        await using (var system = app.Services.CreateSystemScope())
        {
            var (decided, _) = await system.ServiceProvider.GetRequiredService<SignOffUseCases>().DecideAsync(id, signOff, accept, null, Ct);
            Assert.Equal(SignOffStatus.Accepted, decided.Status);
        }
        Assert.Equal("closed", IssueKit.State((await _issues.ReadAsync(id)).Issue));
        Assert.Equal(Caller.System, await app.ScalarAsync<string>(
            "SELECT actor FROM journal WHERE entity = 'issue' AND entity_id = @id AND action = 'sign-off-decided'",
            new { id = id.ToString(System.Globalization.CultureInfo.InvariantCulture) }));
    }

    [Fact]
    public async Task The_month_end_job_journals_its_drafts_as_the_system()
    {
        var kit = new SnapshotKit(app);
        var round = await kit.RoundAsync();

        var run = await app.Services.GetRequiredService<MonthEndDrafts>().RunOnceAsync(Ct);

        Assert.Contains(round.Code, run.Drafted);
        Assert.Equal(Caller.System, await app.ScalarAsync<string>(
            "SELECT actor FROM journal WHERE entity = 'snapshot' AND entity_id = @id AND action = 'draft'", new { id = $"{round.Code}/{run.Period}" }));
    }
}
