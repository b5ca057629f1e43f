using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Http;
using Rectify.Api.Infrastructure.OpenApi;

namespace Rectify.Api.Features.Journal;

public static class JournalEndpoints
{
    public static IEndpointRouteBuilder MapJournal(this IEndpointRouteBuilder routes)
    {
        routes.MapGroup("/api/v1/journal").WithTags("Journal")
            .MapGet("/", List).RequireScope(Scopes.Read)
            .WithName("ListJournal")
            .WithSummary("Read the journal of changes")
            .WithDescription("Every create, update, transition, progress report and evidence entry, oldest first, with the caller and the entity " +
                "before and after. Append-only. Filter by entity, entity id, caller and time range [from, to).")
            .ProducesValidationProblem()
            .WithEnumQueryParameter<JournalEntity>("entity")
            .WithExample(response: new Page<JournalEntryResponse>([Example], null));
        return routes;
    }

    static async Task<Ok<Page<JournalEntryResponse>>> List([AsParameters] JournalQuery query, JournalUseCases journal, CancellationToken ct)
        => TypedResults.Ok(await journal.ListAsync(query, ct));

    // The demo data's own entry: the reference month's snapshot published on the report's date.
    static readonly JournalEntryResponse Example = new(
        2, new DateTime(2025, 11, 5, 2, 0, 0, DateTimeKind.Utc), "system", JournalEntity.Snapshot, "HN-8-6-6/2025-10", "publish",
        null, JsonDocument.Parse("""{"note":"据整改进展情况通报","revision":1}""").RootElement);
}
