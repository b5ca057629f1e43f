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
            .WithDescription("Every create, update, transition, progress report and evidence entry, oldest first, with the caller and the entity before and after. Append-only. Filter by entity, entity id, caller and time range [from, to).")
            .ProducesValidationProblem()
            .WithEnumQueryParameter<JournalEntity>("entity")
            .WithExample(response: new Page<JournalEntryResponse>([Example], null));
        return routes;
    }

    static async Task<Ok<Page<JournalEntryResponse>>> List([AsParameters] JournalQuery query, JournalRepository journal, Caller caller, CancellationToken ct)
    {
        caller.EnsureReadsEverything("The journal");
        return TypedResults.Ok(await journal.ListAsync(query, ct));
    }

    static readonly JournalEntryResponse Example = new(
        42, new DateTime(2025, 10, 15, 8, 0, 0, DateTimeKind.Utc), "hainan-supervision-platform", JournalEntity.Measure, "2", "progress",
        JsonDocument.Parse("""{"state":"in_progress","progress":40}""").RootElement,
        JsonDocument.Parse("""{"state":"in_progress","progress":65}""").RootElement);
}
