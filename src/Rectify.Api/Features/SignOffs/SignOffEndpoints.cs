using Microsoft.AspNetCore.Http.HttpResults;
using Rectify.Api.Features.Issues;
using Rectify.Api.Features.Measures;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Http;
using Rectify.Api.Infrastructure.OpenApi;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Features.SignOffs;

/// <summary>The review (审议 / 销号): sign-off submissions and their decisions, reopening, and the decisions on evidence entries.</summary>
public static class SignOffEndpoints
{
    public static IEndpointRouteBuilder MapSignOffs(this IEndpointRouteBuilder routes)
    {
        var issues = routes.MapGroup("/api/v1/issues").WithTags("Issues");
        var measures = routes.MapGroup("/api/v1/measures").WithTags("Measures");

        issues.MapPost("/{id:long}/sign-offs", Submit).RequireScope(Scopes.Write)
            .ProducesETag("The issue's new version: send it in If-Match to change the issue.")
            .WithLocation("The issue submitted for sign-off.")
            .WithName("SubmitIssueSignOff")
            .WithSummary("Submit an issue for sign-off (申请销号)")
            .WithDescription("The unit that did the work submits an in_progress or long_term issue for sign-off with a summary and the evidence "
                + "entries (of the issue's measures; for a file, the version) it rests on; the issue moves to pending_review and an undecided "
                + "earlier submission is superseded. A client limited to units submits only issues its units lead (403). An evidence id that "
                + "is not an evidence entry of the issue's measures is a 422; a closed issue is a 409 (issue-closed). Journaled "
                + "(sign-off-submitted) and announced as issue.sign-off-submitted. If-Match is optional; Idempotency-Key is honoured.")
            .ProducesActionProblems()
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithExample(Examples.Submit, Examples.Submitted);

        issues.MapGet("/{id:long}/sign-offs", List).RequireScope(Scopes.Read)
            .WithName("ListIssueSignOffs")
            .WithSummary("List an issue's sign-off submissions")
            .WithDescription("Every submission for sign-off of the issue, oldest first, each with its status and decision "
                + "(who, when, comment, watchUntil).")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithExample(response: new[] { Examples.Accepted });

        issues.MapPost("/{id:long}/sign-offs/{signOffId:long}/decision", Decide).RequireScope(Scopes.Review)
            .ProducesETag("The issue's new version: send it in If-Match to change the issue.")
            .WithName("DecideIssueSignOff")
            .WithSummary("Decide on a sign-off submission (审议)")
            .WithDescription("accept, reject or request_changes a pending submission, with a comment (required). The client that submitted it "
                + "cannot decide on it (403, separation-of-duties). accept closes the issue (已销号: closure with this client, today and the "
                + "comment; watchUntil starts consolidation, 巩固) and is refused with 409 (closing-blocked) listing blockingMeasures, "
                + "blockingSubIssues and measuresWithoutAcceptedEvidence unless every measure is done or cancelled with a reason, every "
                + "sub-issue is closed and every done measure has an accepted evidence entry. reject and request_changes send the issue back "
                + "to in_progress. A decided submission is a 409. Journaled (sign-off-decided) and announced as issue.sign-off-decided.")
            .ProducesActionProblems()
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .WithExample(Examples.Decide, Examples.Accepted);

        issues.MapPost("/{id:long}/reopen", Reopen).RequireScope(Scopes.Review).ProducesETag()
            .WithName("ReopenIssue")
            .WithSummary("Reopen a signed-off issue")
            .WithDescription("A closed issue and its measures are frozen (every change is a 409, type issue-closed); this unfreezes it: back to "
                + "in_progress, its closure and consolidation cleared (its sign-offs stay listed). The reason is required and journaled "
                + "(reopen). A client limited to units reopens only issues its units lead. If-Match is optional; when sent it must match.")
            .ProducesActionProblems()
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .WithExample(new ReopenIssueRequest { Reason = "回头看发现殡葬乱象反弹，重新整改。" }, IssueEndpoints.Examples.Supervision);

        measures.MapPost("/{id:long}/evidence/{evidenceId:long}/decision", DecideEvidence).RequireScope(Scopes.Review)
            .ProducesETag("The measure's new version: send it in If-Match to change the measure.")
            .WithName("DecideMeasureEvidence")
            .WithSummary("Decide on an evidence entry (整改一项、审议一项)")
            .WithDescription("The measure-level review: a reviewer accepts or rejects one evidence entry with a comment (required); the entry's "
                + "status, decidedBy, decidedAt and decisionComment follow, and a later decision replaces it. The client that recorded the entry "
                + "cannot decide on it (403, separation-of-duties). An issue is signed off only when each of its done measures has an accepted "
                + "entry. Refused (409, issue-closed) under a closed issue. Journaled on the measure (evidence-decided) and announced as "
                + "measure.evidence-decided. If-Match (the measure's) is optional; when sent it must match.")
            .ProducesActionProblems()
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .WithExample(new DecideEvidenceRequest { Decision = EvidenceDecision.Accepted, Comment = "文件已印发，佐证充分。" }, Examples.Evidence);

        return routes;
    }

    static Task<Results<Created<SignOffResponse>, Replayed>> Submit(long id, SubmitSignOffRequest request, SignOffUseCases signOffs,
        IdempotentCreates creates, HttpContext http, CancellationToken ct)
    {
        var expected = ETags.OptionalVersion(http);
        return creates.CreateAsync(http, request, async (tx, token) =>
        {
            var (signOff, version) = await signOffs.SubmitAsync(tx, id, request, expected, token);
            return new CreatedAnswer<SignOffResponse>($"/api/v1/issues/{id}", signOff, version);
        }, ct);
    }

    static async Task<Ok<IReadOnlyList<SignOffResponse>>> List(long id, SignOffUseCases signOffs, CancellationToken ct)
        => TypedResults.Ok(await signOffs.ListAsync(id, ct));

    static Task<Ok<SignOffResponse>> Decide(long id, long signOffId, DecideSignOffRequest request, SignOffUseCases signOffs, HttpContext http,
        CancellationToken ct)
        => Answer(http, signOffs.DecideAsync(id, signOffId, request, ETags.OptionalVersion(http), ct));

    static Task<Ok<IssueResponse>> Reopen(long id, ReopenIssueRequest request, SignOffUseCases signOffs, HttpContext http, CancellationToken ct)
        => Answer(http, signOffs.ReopenAsync(id, request, ETags.OptionalVersion(http), ct));

    static Task<Ok<EvidenceResponse>> DecideEvidence(long id, long evidenceId, DecideEvidenceRequest request, SignOffUseCases signOffs,
        HttpContext http, CancellationToken ct)
        => Answer(http, signOffs.DecideEvidenceAsync(id, evidenceId, request, ETags.OptionalVersion(http), ct));

    static async Task<Ok<T>> Answer<T>(HttpContext http, Task<(T Value, int Version)> change)
    {
        var (value, version) = await change;
        ETags.Set(http, version);
        return TypedResults.Ok(value);
    }

    /// <summary>Issue 7 of the reference case (its measures done), submitted by its lead unit and signed off by the office.</summary>
    static class Examples
    {
        public static readonly SubmitSignOffRequest Submit = new()
        {
            Summary = "整改措施已全部完成，相关制度已印发，申请销号。",
            Evidence = [new SignOffEvidence { EvidenceId = 14 }, new SignOffEvidence { EvidenceId = 15, FileVersion = 2 }],
        };

        public static readonly SignOffResponse Submitted = new()
        {
            Id = 3, IssueId = 7, Summary = Submit.Summary, Evidence = Submit.Evidence!, SubmittedBy = "hainan-mzt-jgjw",
            SubmittedAt = new DateTime(2025, 11, 5, 2, 0, 0, DateTimeKind.Utc), Status = SignOffStatus.Pending,
        };

        public static readonly DecideSignOffRequest Decide = new()
        {
            Decision = SignOffDecision.Accept, Comment = "整改到位，同意销号。", WatchUntil = new DateOnly(2026, 5, 31),
        };

        public static readonly SignOffResponse Accepted = Submitted with
        {
            Status = SignOffStatus.Accepted, DecidedBy = "hainan-xsb-office", DecidedAt = new DateTime(2025, 11, 6, 2, 0, 0, DateTimeKind.Utc),
            DecisionComment = Decide.Comment, WatchUntil = Decide.WatchUntil,
        };

        public static readonly EvidenceResponse Evidence = new()
        {
            Id = 14, MeasureId = 20, Title = "机关纪委日常监督工作办法", DocumentNumber = "琼民党组发〔2025〕5号", IssuedOn = new DateOnly(2025, 4, 30),
            RecordedBy = "hainan-mzt-jgjw", RecordedAt = new DateTime(2025, 5, 6, 2, 0, 0, DateTimeKind.Utc), Status = EvidenceStatus.Accepted,
            DecidedBy = "hainan-xsb-office", DecidedAt = new DateTime(2025, 11, 6, 2, 0, 0, DateTimeKind.Utc), DecisionComment = "文件已印发，佐证充分。",
        };
    }
}
