using Microsoft.AspNetCore.Http.HttpResults;
using Rectify.Api.Features.Measures;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Http;
using Rectify.Api.Infrastructure.OpenApi;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Features.Issues;

public static class IssueEndpoints
{
    public static IEndpointRouteBuilder MapIssues(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/issues").WithTags("Issues");

        group.MapGet("/", List).RequireScope(Scopes.Read)
            .WithName("ListIssues")
            .WithSummary("List issues")
            .WithDescription("Issues (问题) raised by inspection rounds, oldest first, keyset paged. Filter by round, state, category, lead unit, "
                + "parent, overdue, or text in code, title and description (e.g. q=殡葬). Answers JSON only: the same selection as one CSV file is "
                + $"GET {ExportPath} (an Accept that prefers text/csv is a 406 naming it).")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status406NotAcceptable)
            .WithEnumQueryParameter<IssueState>("state")
            .WithEnumQueryParameter<Warnings.WarningLevel>("warning")
            .WithExample(response: new Page<IssueResponse>([Examples.Issue], "azE6MTI"));

        group.MapGet("/export", Export).RequireScope(Scopes.Read)
            .WithName("ExportIssues")
            .WithSummary("Export issues as CSV")
            .WithDescription("Every issue the filters select (the list's filters, without paging), oldest first, streamed as one CSV file "
                + "(issues.csv, UTF-8 with BOM) for spreadsheets.")
            .ProducesCsv($"Every selected issue (no paging), oldest first, UTF-8 with BOM, CRLF, header {CsvExport.HeaderText(CsvColumns)}.",
                CsvExport.Text(CsvColumns, Examples.Issue))
            .ProducesValidationProblem()
            .WithEnumQueryParameter<IssueState>("state")
            .WithEnumQueryParameter<Warnings.WarningLevel>("warning");

        group.MapGet("/{id:long}", Get).RequireScope(Scopes.Read).ProducesETag()
            .WithName("GetIssue")
            .WithSummary("Get an issue with its sub-issues and measures")
            .WithDescription("One issue with its derived overdue flag and progress, its sub-issues and its measures. The ETag "
                + "header is the version for If-Match.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithExample(response: Examples.Issue with
            {
                SubIssues = [], Measures = [MeasureEndpoints.Examples.Measure, MeasureEndpoints.Examples.Infrastructure]
            });

        group.MapPost("/", Create).RequireScope(Scopes.Write).ProducesETag()
            .WithName("CreateIssue")
            .WithSummary("Create an issue")
            .WithDescription("Records a problem raised by a round; it starts open. Send an Idempotency-Key header to make retries safe. A client "
                + "limited to units creates only issues led by one of its units or a unit below one (403 naming the unit).")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithExample(Examples.Create, Examples.Issue with
            {
                State = IssueState.Open, Progress = null, MeasureCount = 0, AllowedTransitions = IssueStates.AllowedFrom(IssueState.Open)
            });

        group.MapPut("/{id:long}", Update).RequireScope(Scopes.Write).ProducesETag()
            .WithName("UpdateIssue")
            .WithSummary("Update an issue")
            .WithDescription("Replaces the issue's fields and may move it between open, in_progress and long_term. Requires If-Match. A move "
                + "the state machine does not allow is a 409 naming the allowed ones; moves into and out of pending_review are the sign-off's "
                + "(POST …/sign-offs and its decision). A closed issue is frozen: 409, type issue-closed, until POST …/reopen. A client limited "
                + "to units changes only issues its units lead (owning a measure is not enough) and moves the lead only between its units (403 "
                + "naming the unit).")
            .ProducesUpdateProblems()
            .WithExample(Examples.Update, Examples.Issue);

        group.MapPost("/{id:long}/review", Review).RequireScope(Scopes.Write).ProducesETag()
            .WithName("RequestIssueReview")
            .WithSummary("Request sign-off without evidence (申请销号)")
            .WithDescription("A sign-off submission (as POST …/sign-offs) whose summary is the note and which names no evidence, answered with the "
                + "issue: moves an in_progress or long_term issue to pending_review and records who asked (this client) and when. Prefer POST "
                + "…/sign-offs, which names the evidence. Another client, with the scope review, decides "
                + "(POST …/sign-offs/{signOffId}/decision). "
                + "A client limited to units asks only for issues its units lead. The body (a note) is optional. If-Match is optional; when sent "
                + "it must match.")
            .ProducesActionProblems()
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .WithExample(Examples.Review, Examples.UnderReview);

        // The one-step close is gone: an issue is closed by accepting a sign-off. The route stays, outside the document, to tell
        // clients written against it where the sign-off is (409, sign-off-required) instead of a bare 404.
        group.MapPost("/{id:long}/close", Close).RequireScope(Scopes.Review).ExcludeFromDescription();

        return routes;
    }

    const string ExportPath = "/api/v1/issues/export";

    static async Task<KeptOk<Page<IssueResponse>>> List([AsParameters] IssueListQuery query, IssueUseCases issues, HttpContext http,
        CancellationToken ct)
    {
        CsvExport.RefuseCsv(http, ExportPath);
        return new(await issues.ListAsync(query, ct));
    }

    static IResult Export([AsParameters] IssueListQuery query, IssueUseCases issues, CancellationToken ct)
        => CsvExport.File("issues.csv", CsvColumns, issues.ExportAsync(query, ct), ct);

    /// <summary>
    /// The CSV export's columns: the list item's scalar fields in its order and names, the review and the sign-off
    /// flattened into their own columns, without the arrays (allowedTransitions).
    /// </summary>
    static readonly CsvColumn<IssueResponse>[] CsvColumns =
    [
        new("id", i => i.Id), new("round", i => i.Round), new("parentId", i => i.ParentId), new("code", i => i.Code), new("title", i => i.Title),
        new("description", i => i.Description), new("category", i => i.Category), new("leadUnit", i => i.LeadUnit),
        new("responsibleLeader", i => i.ResponsibleLeader), new("state", i => EnumText.Format(i.State)), new("dueDate", i => i.DueDate),
        new("overdue", i => i.Overdue), new("progress", i => i.Progress), new("measureCount", i => i.MeasureCount),
        new("reviewRequestedAt", i => i.Review?.RequestedAt), new("reviewRequestedBy", i => i.Review?.RequestedBy),
        new("reviewNote", i => i.Review?.Note),
        new("closedOn", i => i.Closure?.ClosedOn), new("reviewer", i => i.Closure?.Reviewer), new("conclusion", i => i.Closure?.Conclusion),
        new("watchUntil", i => i.Closure?.WatchUntil), new("consolidating", i => i.Consolidating), new("createdAt", i => i.CreatedAt),
        new("updatedAt", i => i.UpdatedAt),
        new("originalDueDate", i => i.OriginalDueDate), new("deferralCount", i => i.DeferralCount),
        new("warningLevel", i => i.WarningLevel is { } level ? EnumText.Format(level) : null),
    ];

    static async Task<KeptOk<IssueResponse>> Get(long id, IssueUseCases issues, HttpContext http, CancellationToken ct)
    {
        var issue = await issues.GetAsync(id, ct);
        ETags.Set(http, issue.Version!.Value);
        return new(issue);
    }

    static Task<Results<Created<IssueResponse>, Replayed>> Create(CreateIssueRequest request, IssueUseCases issues, IdempotentCreates creates,
        HttpContext http, CancellationToken ct)
        => creates.CreateAsync(http, request, async (tx, token) =>
        {
            var (issue, version) = await issues.CreateAsync(tx, request, token);
            return new CreatedAnswer<IssueResponse>($"/api/v1/issues/{issue.Id}", issue, version);
        }, ct);

    static Task<Ok<IssueResponse>> Update(long id, UpdateIssueRequest request, IssueUseCases issues, HttpContext http, CancellationToken ct)
        => Answer(http, issues.UpdateAsync(id, request, ETags.RequiredVersion(http), ct));

    static Task<Ok<IssueResponse>> Review(long id, ReviewIssueRequest? request, SignOffs.SignOffUseCases signOffs, HttpContext http,
        CancellationToken ct)
        => Answer(http, signOffs.RequestReviewAsync(id, request?.Note, ETags.OptionalVersion(http), ct));

    static IResult Close(long id) => throw IssueUseCases.SignOffRequired(id);

    static async Task<Ok<IssueResponse>> Answer(HttpContext http, Task<(IssueResponse Issue, int Version)> change)
    {
        var (issue, version) = await change;
        ETags.Set(http, version);
        return TypedResults.Ok(issue);
    }

    /// <summary>Issues 1 and 7 of the reference case, as the demo data holds them.</summary>
    internal static class Examples
    {
        public static readonly IssueResponse Issue = new()
        {
            Id = 1, Round = "HN-8-6-6", Code = "1", Title = "殡葬改革推行不力",
            Description = "巡视指出省民政厅推行殡葬改革不力：殡葬服务收费和殡葬市场管理不规范，殡葬设施违规占地、违规销售墓穴和超标准墓穴等乱象整治不到位，殡葬政策制度不健全；殡葬基础服务设施建设乏力，落实殡葬改革成效差距明显。",
            Category = "殡葬管理", LeadUnit = "HNMZT.SHSW", ResponsibleLeader = "厅党组书记、厅长", State = IssueState.InProgress,
            DueDate = new DateOnly(2026, 6, 30), Overdue = false, Progress = 62.5m, MeasureCount = 2,
            AllowedTransitions = IssueStates.AllowedFrom(IssueState.InProgress),
            CreatedAt = new DateTime(2025, 3, 1, 1, 0, 0, DateTimeKind.Utc), UpdatedAt = new DateTime(2025, 11, 5, 2, 0, 0, DateTimeKind.Utc),
            OriginalDueDate = new DateOnly(2026, 6, 30), DeferralCount = 0,
        };

        /// <summary>Issue 7, whose measures are done: the lead unit asks for sign-off (申请销号), the office's reviewer signs off.</summary>
        public static readonly IssueResponse Supervision = Issue with
        {
            Id = 7, Code = "7", Title = "履行监督责任不够有力",
            Description = "巡视指出履行监督责任不够有力：机关纪委队伍结构和履职能力较弱，廉政风险防控、警示教育和领导干部个人有关事项报告管理不严，日常监督机制不健全，“监督一张网”平台应用不充分。",
            Category = "监督执纪", LeadUnit = "HNMZT.JGJW", ResponsibleLeader = "分管机关纪检工作的厅党组成员",
            DueDate = new DateOnly(2025, 5, 31), OriginalDueDate = new DateOnly(2025, 5, 31), Progress = 100m,
        };

        public static readonly ReviewIssueRequest Review = new() { Note = "整改措施已全部完成，相关制度已印发，申请销号。" };

        public static readonly IssueResponse UnderReview = Supervision with
        {
            State = IssueState.PendingReview, AllowedTransitions = IssueStates.AllowedFrom(IssueState.PendingReview),
            Review = new IssueReview(new DateTime(2025, 11, 5, 2, 0, 0, DateTimeKind.Utc), "demo-data", Review.Note),
        };

        public static readonly CreateIssueRequest Create = new()
        {
            Round = "HN-8-6-6", Code = "1", Title = Issue.Title, Description = Issue.Description, Category = Issue.Category,
            LeadUnit = Issue.LeadUnit, ResponsibleLeader = Issue.ResponsibleLeader, DueDate = Issue.DueDate,
        };

        public static readonly UpdateIssueRequest Update = new()
        {
            Title = Issue.Title, Description = Issue.Description, Category = Issue.Category, LeadUnit = Issue.LeadUnit,
            ResponsibleLeader = Issue.ResponsibleLeader, DueDate = Issue.DueDate, State = IssueState.InProgress,
        };
    }
}
