using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Auth;

namespace Rectify.Api.Features.Dashboard;

/// <summary>A round's dashboard: for callers that read every unit, as of today in the configured time zone.</summary>
public sealed class DashboardUseCases(DashboardRepository dashboards, Clock clock, Caller caller)
{
    public async Task<DashboardResponse> GetAsync(string round, CancellationToken ct)
    {
        caller.EnsureReadsEverything("A round's dashboard");
        return await dashboards.ReadAsync(round, clock.Today, clock.DueSoonUntil, ct) ?? throw Refuse.NotFound("round", round);
    }
}
