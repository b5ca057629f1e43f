using Microsoft.AspNetCore.Http.HttpResults;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Infrastructure.Http;
using Rectify.Api.Infrastructure.OpenApi;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Features.Deadlines;

/// <summary>POST …/deadline and GET …/deadline-changes of issues and measures: the one way a due date moves, and its history.</summary>
public static class DeadlineEndpoints
{
    public static IEndpointRouteBuilder MapDeadlines(this IEndpointRouteBuilder routes)
    {
        var issues = routes.MapGroup("/api/v1/issues").WithTags("Issues");
        var measures = routes.MapGroup("/api/v1/measures").WithTags("Measures");

        issues.MapPost("/{id:long}/deadline", MoveIssue).RequireScope(Scopes.Write)
            .ProducesETag("The issue's new version: send it in If-Match to change the issue.")
            .WithLocation("The issue whose due date moved.")
            .WithName("ChangeIssueDeadline")
            .WithSummary("Move an issue's due date (调整整改时限)")
            .WithDescription($"{MoveText} A client limited to units moves only the due dates of issues its units lead (403). Refused (409) on a " +
                $"closed issue.")
            .ProducesActionProblems()
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithExample(Examples.Move, Examples.IssueChange);

        issues.MapGet("/{id:long}/deadline-changes", ListForIssue).RequireScope(Scopes.Read)
            .WithName("ListIssueDeadlineChanges")
            .WithSummary("List the moves of an issue's due date")
            .WithDescription("Every move of the issue's due date through POST …/deadline, oldest first: previous and new date, reason, whether it " +
                "was a deferral, who and when.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithExample(response: new[] { Examples.IssueChange });

        measures.MapPost("/{id:long}/deadline", MoveMeasure).RequireScope(Scopes.Write)
            .ProducesETag("The measure's new version: send it in If-Match to change the measure.")
            .WithLocation("The measure whose due date moved.")
            .WithName("ChangeMeasureDeadline")
            .WithSummary("Move a measure's due date (调整完成时限)")
            .WithDescription($"{MoveText} A client limited to units moves only the due dates of measures its units own (403). Refused (409) on a " +
                $"done or cancelled measure and under a closed issue; a date before the measure's startDate is a 400.")
            .ProducesActionProblems()
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithExample(Examples.Move, Examples.MeasureChange);

        measures.MapGet("/{id:long}/deadline-changes", ListForMeasure).RequireScope(Scopes.Read)
            .WithName("ListMeasureDeadlineChanges")
            .WithSummary("List the moves of a measure's due date")
            .WithDescription("Every move of the measure's due date through POST …/deadline, oldest first: previous and new date, reason, whether " +
                "it was a deferral, who and when.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithExample(response: new[] { Examples.MeasureChange });

        return routes;
    }

    const string MoveText = "The one way a due date moves: an update (PUT) that changes it is refused with 409, type deadline-change-required. " +
        "Records the previous and the new date, the reason (required), this client and the time; the item's dueDate, originalDueDate and " +
        "deferralCount follow. A later date is a deferral (延期) and counts in deferralCount; an earlier one is recorded but does not count. " +
        "The same date again is a 422. Journaled (action deadline) and announced as the webhook event deadline.changed. " +
        "If-Match is optional; when sent it must match. Idempotency-Key is honoured.";

    static Task<Results<Created<DeadlineChangeResponse>, Replayed>> MoveIssue(long id, ChangeDeadlineRequest request, DeadlineUseCases deadlines,
        IdempotentCreates creates, HttpContext http, CancellationToken ct)
        => MoveAsync(http, creates, request, $"/api/v1/issues/{id}",
            (tx, expected, token) => deadlines.MoveIssueAsync(tx, id, request, expected, token), ct);

    static Task<Results<Created<DeadlineChangeResponse>, Replayed>> MoveMeasure(long id, ChangeDeadlineRequest request, DeadlineUseCases deadlines,
        IdempotentCreates creates, HttpContext http, CancellationToken ct)
        => MoveAsync(http, creates, request, $"/api/v1/measures/{id}",
            (tx, expected, token) => deadlines.MoveMeasureAsync(tx, id, request, expected, token), ct);

    /// <summary>A move under the request's Idempotency-Key and optional If-Match: 201 with the change, the item as Location and its new
    /// ETag.</summary>
    static Task<Results<Created<DeadlineChangeResponse>,
        Replayed>> MoveAsync(HttpContext http, IdempotentCreates creates, ChangeDeadlineRequest request,
        string item, Func<Tx, int?, CancellationToken, Task<(DeadlineChangeResponse Change, int Version)>> move, CancellationToken ct)
    {
        var expected = ETags.OptionalVersion(http);
        return creates.CreateAsync(http, request, async (tx, token) =>
        {
            var (change, version) = await move(tx, expected, token);
            return new CreatedAnswer<DeadlineChangeResponse>(item, change, version);
        }, ct);
    }

    static async Task<Ok<IReadOnlyList<DeadlineChangeResponse>>> ListForIssue(long id, DeadlineUseCases deadlines, CancellationToken ct)
        => TypedResults.Ok(await deadlines.ListForIssueAsync(id, ct));

    static async Task<Ok<IReadOnlyList<DeadlineChangeResponse>>> ListForMeasure(long id, DeadlineUseCases deadlines, CancellationToken ct)
        => TypedResults.Ok(await deadlines.ListForMeasureAsync(id, ct));

    /// <summary>A deferral of measure 1.2 of the reference case (construction projects), as a client would record one.</summary>
    static class Examples
    {
        public static readonly ChangeDeadlineRequest Move = new()
        {
            DueDate = new DateOnly(2026, 12, 31),
            Reason = "殡葬基础设施项目用地审批未完成，经专班研究同意，完成时限顺延至2026年底。",
        };

        public static readonly DeadlineChangeResponse MeasureChange = new()
        {
            Id = 1, MeasureId = 2, PreviousDueDate = new DateOnly(2026, 6, 30), DueDate = Move.DueDate, Reason = Move.Reason, Deferral = true,
            ChangedBy = "hainan-mzt-office", ChangedAt = new DateTime(2026, 5, 20, 2, 0, 0, DateTimeKind.Utc),
        };

        public static readonly DeadlineChangeResponse IssueChange = MeasureChange with { MeasureId = null, IssueId = 1 };
    }
}
