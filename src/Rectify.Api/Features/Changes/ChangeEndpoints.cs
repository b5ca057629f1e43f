using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.OpenApi;

namespace Rectify.Api.Features.Changes;

public static class ChangeEndpoints
{
    public static IEndpointRouteBuilder MapChanges(this IEndpointRouteBuilder routes)
    {
        routes.MapGroup("/api/v1/changes").WithTags("Changes")
            .MapGet("/", List).RequireScope(Scopes.Read)
            .WithName("ListChanges")
            .WithSummary("Follow every change from a cursor")
            .WithDescription("Created, updated and deleted rounds, issues, measures, progress and evidence entries, deadline changes, indicators, " +
                "data values, snapshots and (for admins) clients, in a stable order, each with the entity as it is now (null when it no longer " +
                "exists) or its key. Start without after, then pass nextCursor each time: a consumer that follows the feed from the start ends " +
                "with the current state, and no change is ever skipped (changes of transactions still running are shown once they end). A client " +
                "whose reads are limited to units sees its units' changes. A cursor older than the retention is a 410 (type cursor-expired): start " +
                "again without after.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status410Gone)
            .WithExample(response: Example);
        return routes;
    }

    static async Task<Ok<ChangePage>> List([AsParameters] ChangeFeedQuery query, ChangeUseCases changes, CancellationToken ct)
        => TypedResults.Ok(await changes.ReadAsync(query, ct));

    static readonly ChangePage Example = new(
    [
        new(ChangeEntity.Measure, "12", ChangeOperation.Updated, new DateTime(2025, 10, 20, 2, 0, 0, DateTimeKind.Utc), "county-system",
            JsonDocument.Parse("""{"id":12,"code":"1","issueId":3}""").RootElement,
            JsonDocument.Parse("""{"id":12,"code":"1","issueId":3,"title":"开展殡葬领域突出问题专项整治","state":"in_progress","progress":60.00}""").RootElement),
    ], "azE6NzQ0fDB8MTJ8fA", false);
}
