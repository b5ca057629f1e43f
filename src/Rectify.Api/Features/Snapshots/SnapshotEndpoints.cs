using Microsoft.AspNetCore.Http.HttpResults;
using Rectify.Api.Features.Indicators;
using Rectify.Api.Features.Issues;
using Rectify.Api.Features.Measures;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Http;
using Rectify.Api.Infrastructure.OpenApi;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Features.Snapshots;

public static class SnapshotEndpoints
{
    public static IEndpointRouteBuilder MapSnapshots(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/rounds/{round}/snapshots").WithTags("Snapshots");

        group.MapGet("/", List).RequireScope(Scopes.Read)
            .WithName("ListSnapshots")
            .WithSummary("List a round's monthly snapshots")
            .WithDescription("Every month with a snapshot, newest first: its latest revision and status, the latest published "
                + "revision, and the completion rate.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithExample(response: new SnapshotList("HN-8-6-6", [Examples.ListItem]));

        group.MapGet("/{period}", Get).RequireScopeOrPublicRead(Scopes.Read).ProducesETag()
            .WithName("GetSnapshot")
            .WithSummary("Get a monthly snapshot")
            .WithDescription("""
                The latest revision of the month's snapshot (a draft correction included), or ?revision=N. The ETag changes with every change of a
                draft; send it in If-None-Match to get 304 when nothing changed. A published revision never changes and is cacheable.
                Where public read is configured, callers without a key get published revisions only. Answers JSON only: the snapshot's
                measures as one CSV file are GET …/snapshots/{period}/export (an Accept that prefers text/csv is a 406 naming it).
                """)
            .Produces<SnapshotResponse>()
            .Produces(StatusCodes.Status304NotModified)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status406NotAcceptable)
            .WithExample(response: Examples.Snapshot);

        group.MapGet("/{period}/export", Export).RequireScopeOrPublicRead(Scopes.Read).ProducesETag()
            .WithName("ExportSnapshot")
            .WithSummary("Export a monthly snapshot's measures as CSV")
            .WithDescription("""
                The measures of the month's snapshot (the latest revision, or ?revision=N) as one CSV file, one row per measure with its issue,
                for spreadsheets. The ETag ("revision.version.csv") is the CSV's own; send it in If-None-Match to get 304 when nothing changed.
                Caching and public read as for the JSON snapshot.
                """)
            .ProducesCsv($"The snapshot's measures, one row each with its issue, UTF-8 with BOM, CRLF, header {CsvExport.HeaderText(CsvColumns)}.",
                CsvExport.Text(CsvColumns, Rows(Examples.Snapshot)))
            .Produces(StatusCodes.Status304NotModified)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);

        group.MapPut("/{period}", Push).RequireScope(Scopes.Push).ProducesETag()
            .WithName("PushSnapshot")
            .WithSummary("Push the month's progress and values into its draft snapshot")
            .WithDescription("""
                What a scheduled job sends at month end: progress of the round's measures, indicator values of the month, and the narrative.
                Applied all or nothing: the progress and values land, and the month's state is read back into the draft snapshot. The same
                push again, or a push with nothing new, changes nothing (changed: false; the draft and its ETag stay). Once the month is published,
                a push needs revisionReason and makes the next revision as a draft. Values a published snapshot locks (its indicators, in its round's
                region and below, for its period) need revisionReason too: without it the push is 422, naming values[i].period and the snapshot.
                Units outside the client's are 403.
                """)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithExample(Examples.Push, Examples.PushAnswer);

        group.MapPost("/{period}/publish", Publish).RequireScope(Scopes.Review).ProducesETag()
            .WithName("PublishSnapshot")
            .WithSummary("Publish (freeze) the month's snapshot")
            .WithDescription("""
                Freezes the latest draft revision: it never changes again, whatever the live data does, and the month's indicator values are
                locked (pushes for it need a revision reason). The month must be over, and the month before it must be published first
                (unless the round has no earlier snapshot). Send If-Match with the ETag you reviewed to publish exactly that draft.
                """)
            .ProducesActionProblems()
            .WithExample(new PublishSnapshotRequest { Note = "专班会议审定" }, Examples.Snapshot);

        group.MapGet("/{period}/diff", Diff).RequireScope(Scopes.Read)
            .WithName("DiffSnapshots")
            .WithSummary("What changed between two months")
            .WithDescription("Compares the latest revisions of two months' snapshots: issue and measure state changes, measures completed, newly "
                + "overdue, measures added or removed, indicator changes, and the completion rate.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithExample(response: Examples.Diff);

        return routes;
    }

    static async Task<Ok<SnapshotList>> List(string round, SnapshotUseCases snapshots, CancellationToken ct)
        => TypedResults.Ok(await snapshots.ListAsync(round, ct));

    static async Task<IResult> Get(string round, [Month] Period period, [AsParameters] SnapshotQuery query, SnapshotUseCases snapshots, Caller caller,
        PublishedSnapshotTags published, HttpContext http, CancellationToken ct)
    {
        CsvExport.RefuseCsv(http, $"/api/v1/rounds/{Uri.EscapeDataString(round)}/snapshots/{period}/export");
        // A published revision asked for by number never changes: a tag this node served for it is still its tag. A month's
        // latest revision, published, stays the latest until a correction: its tag is kept for a short bound.
        // Read by a caller without a key, the latest published revision need not be the month's latest: not kept as that.
        var latestOfAll = query.Revision is null && caller.IsAuthenticated;
        if (http.Request.Headers.IfNoneMatch.Count > 0)
        {
            if ((query.Revision is { } revision ? published.Find(round, period, revision) : published.FindLatest(round, period)) is { } known
                && ETags.Matches(http.Request.Headers.IfNoneMatch, known))
            {
                caller.EnsureReadsEverything("A round's snapshot");
                return NotModified(http, known, CacheControl(SnapshotStatus.Published, query.Revision is not null, caller.IsAuthenticated));
            }
            // Not known here (or no longer): the stored tag decides, and the content (up to megabytes) is read only when it changed.
            if (await snapshots.FindTagAsync(round, period, query.Revision, ct) is { } stored
                && Tag(stored.Revision, stored.Version) is var storedTag && ETags.Matches(http.Request.Headers.IfNoneMatch, storedTag))
            {
                var status = EnumText.Parse<SnapshotStatus>(stored.Status);
                published.Remember(round, period, stored.Revision, status, storedTag, latestOfAll);
                return NotModified(http, storedTag, CacheControl(status, query.Revision is not null, caller.IsAuthenticated));
            }
        }
        var (snapshot, version) = await snapshots.FindAsync(round, period, query.Revision, ct);
        published.Remember(round, snapshot, Tag(snapshot.Revision, version), latestOfAll);
        return Conditional(http, snapshot, Tag(snapshot.Revision, version), query, caller, () => TypedResults.Ok(snapshot));
    }

    static async Task<IResult> Export(string round, [Month] Period period, [AsParameters] SnapshotQuery query, SnapshotUseCases snapshots,
        Caller caller, HttpContext http, CancellationToken ct)
    {
        var (snapshot, version) = await snapshots.FindAsync(round, period, query.Revision, ct);
        // The CSV and the xlsx have tags of their own: a cached JSON answer must not validate a CSV request.
        var extension = ExportFormat.Of(http).Xlsx ? "xlsx" : "csv";
        return Conditional(http, snapshot, $"\"{snapshot.Revision}.{version}.{extension}\"", query, caller, () =>
            CsvExport.File($"snapshot-{snapshot.Round}-{snapshot.Period}-r{snapshot.Revision}.csv", CsvColumns, Rows(snapshot).ToAsyncEnumerable(),
                ct));
    }

    /// <summary>The representation with its tag and caching, or 304 when If-None-Match holds the tag.</summary>
    static IResult Conditional(HttpContext http, SnapshotResponse snapshot, string tag, SnapshotQuery query, Caller caller, Func<IResult> answer)
    {
        var cacheControl = CacheControl(snapshot.Status, query.Revision is not null, caller.IsAuthenticated);
        return ETags.Matches(http.Request.Headers.IfNoneMatch, tag)
            ? NotModified(http, tag, cacheControl)
            : Answer(http, tag, cacheControl, answer());
    }

    static IResult NotModified(HttpContext http, string tag, string cacheControl)
        => Answer(http, tag, cacheControl, Results.StatusCode(StatusCodes.Status304NotModified));

    static IResult Answer(HttpContext http, string tag, string cacheControl, IResult result)
    {
        http.Response.Headers.ETag = tag;
        http.Response.Headers.CacheControl = cacheControl;
        return result;
    }

    /// <summary>A snapshot as a table: its measures, each with the snapshot's identity and its issue's state.</summary>
    static IEnumerable<SnapshotCsvRow> Rows(SnapshotResponse snapshot)
    {
        var issues = snapshot.Content.Issues.ToDictionary(i => i.Code, StringComparer.Ordinal);
        return snapshot.Content.Measures.Select(m => new SnapshotCsvRow(snapshot, issues.GetValueOrDefault(m.IssueCode), m));
    }

    sealed record SnapshotCsvRow(SnapshotResponse Snapshot, SnapshotIssue? Issue, SnapshotMeasure Measure);

    static readonly CsvColumn<SnapshotCsvRow>[] CsvColumns =
    [
        new("round", r => r.Snapshot.Round),
        new("period", r => r.Snapshot.Period),
        new("revision", r => r.Snapshot.Revision),
        new("status", r => EnumText.Format(r.Snapshot.Status)),
        new("issueCode", r => r.Measure.IssueCode),
        new("issueTitle", r => r.Issue?.Title),
        new("category", r => r.Issue?.Category),
        new("issueState", r => r.Issue is null ? null : EnumText.Format(r.Issue.State)),
        new("measureId", r => r.Measure.Id),
        new("measureCode", r => r.Measure.Code),
        new("title", r => r.Measure.Title),
        new("ownerUnit", r => r.Measure.OwnerUnit),
        new("state", r => EnumText.Format(r.Measure.State)),
        new("progress", r => r.Measure.Progress),
        new("startDate", r => r.Measure.StartDate),
        new("dueDate", r => r.Measure.DueDate),
        new("completedOn", r => r.Measure.CompletedOn),
        new("overdue", r => r.Measure.Overdue),
        new("trafficLight", r => r.Measure.TrafficLight is { } light ? EnumText.Format(light) : null),
        new("latestNote", r => r.Measure.LatestNote),
    ];

    static async Task<Ok<PushSnapshotResponse>> Push(string round, [Month] Period period, PushSnapshotRequest request, SnapshotUseCases snapshots,
        PublishedSnapshotTags published, HttpContext http, CancellationToken ct)
    {
        // A push after publication makes a correction, the month's new latest revision: this node stops answering with the old one.
        published.ForgetLatest(round, period);
        var (answer, version) = await snapshots.PushAsync(round, period, request, ct);
        published.ForgetLatest(round, period);
        http.Response.Headers.ETag = Tag(answer.Snapshot.Revision, version);
        return TypedResults.Ok(answer);
    }

    static async Task<Ok<SnapshotResponse>> Publish(string round, [Month] Period period, PublishSnapshotRequest? request, SnapshotUseCases snapshots,
        HttpContext http, CancellationToken ct)
    {
        var ifMatch = http.Request.Headers.IfMatch;
        var (snapshot, version) = await snapshots.PublishAsync(round, period,
            ifMatch.Count == 0 ? null : tag => ETags.Matches(ifMatch, tag), request ?? new PublishSnapshotRequest(), ct);
        http.Response.Headers.ETag = Tag(snapshot.Revision, version);
        return TypedResults.Ok(snapshot);
    }

    static async Task<Ok<SnapshotDiff>> Diff(string round, [Month] Period period, [AsParameters] SnapshotDiffQuery query, SnapshotUseCases snapshots,
        CancellationToken ct)
    {
        // [Required] and [Month] hold against to a month before the handler runs.
        return TypedResults.Ok(await snapshots.DiffAsync(round, period, query.Against!.Value, ct));
    }

    static string Tag(int revision, int version) => SnapshotRepository.Tag(revision, version);

    // A published revision asked for by number never changes; the latest may still be corrected, so it is kept briefly.
    // Keyed answers stay private: shared caches must not hand them to callers without a key.
    static string CacheControl(SnapshotStatus status, bool byRevision, bool keyed)
    {
        if (status == SnapshotStatus.Draft) return "no-cache";
        var audience = keyed ? "private" : "public";
        return byRevision ? $"{audience}, max-age=31536000, immutable" : $"{audience}, max-age=300";
    }

    /// <summary>
    /// The demo data's published 2025-10 (the month the reference report covers, drafted and published on the report's
    /// date); the push is how an office would have filled that month in; the diff is September against October, when 7.2
    /// and 8.2 were completed.
    /// </summary>
    static class Examples
    {
        static readonly DateTime ReportDate = new(2025, 11, 5, 2, 0, 0, DateTimeKind.Utc);

        static readonly SnapshotContent Content = new()
        {
            Round = "HN-8-6-6", RoundName = "八届省委第六轮巡视（第六巡视组）对省民政厅党组的巡视", Period = "2025-10", MonthEnd = new DateOnly(2025, 10, 31),
            TakenAt = ReportDate, Region = "460000",
            Summary = new SnapshotSummary
            {
                IssuesByState = new Dictionary<string, int>
                {
                    ["open"] = 0, ["in_progress"] = 5, ["pending_review"] = 2, ["closed"] = 0, ["long_term"] = 2
                },
                MeasuresByState = new Dictionary<string, int> { ["planned"] = 0, ["in_progress"] = 9, ["done"] = 16, ["cancelled"] = 0 },
                Issues = 9, Measures = 25, OverdueIssues = 0, OverdueMeasures = 0, IssuesClosedThisMonth = 0, MeasuresCompletedThisMonth = 2,
                CompletionRate = 64m, Reporting = new SnapshotCompleteness(79, 54, 54, 0, 25, 68.35m),
            },
            Issues =
            [
                new SnapshotIssue
                {
                    Id = 1, Code = "1", Title = "殡葬改革推行不力", Category = "殡葬管理", LeadUnit = "HNMZT.SHSW", ResponsibleLeader = "厅党组书记、厅长",
                    State = IssueState.InProgress, DueDate = new DateOnly(2026, 6, 30), Overdue = false, TrafficLight = TrafficLight.Green,
                    Progress = 62.5m,
                    OriginalDueDate = new DateOnly(2026, 6, 30),
                },
            ],
            Measures =
            [
                new SnapshotMeasure
                {
                    Id = 1, IssueCode = "1", Code = "1.1", Title = "整治殡葬乱象", Description = MeasureEndpoints.Examples.Measure.Description,
                    OwnerUnit = "HNMZT.SHSW", State = MeasureState.InProgress, Progress = 85m, StartDate = new DateOnly(2025, 3, 1),
                    DueDate = new DateOnly(2025, 12, 31), Overdue = false, TrafficLight = TrafficLight.Green,
                    OriginalDueDate = new DateOnly(2025, 12, 31),
                },
            ],
            Indicators =
            [
                new SnapshotIndicator
                {
                    Code = "FUNERAL-PROBLEMS-FIXED", Name = "殡葬领域专项整治完成整改问题数", MeasureUnit = "个", Period = "2025-10", Value = 558m,
                    PreviousPeriod = "2025-09", TargetValue = 596m, TargetDate = new DateOnly(2025, 12, 31), TargetProgress = 93.62m, Issues = ["6"],
                },
                new SnapshotIndicator
                {
                    Code = "LOTTERY-SALES", Name = "全省福利彩票销量", MeasureUnit = "万元", Period = "2025-10", PreviousPeriod = "2025-09",
                    PreviousValue = 8520m,
                    Issues = ["5"],
                },
            ],
        };

        public static readonly SnapshotResponse Snapshot = new()
        {
            Round = "HN-8-6-6", Period = "2025-10", Revision = 1, Status = SnapshotStatus.Published, Origin = SnapshotOrigin.Drafted,
            Narrative = "省民政厅党组将巡视整改作为检验“四个意识”的重要标尺，成立由厅党组书记、厅长“双牵头”的巡视整改工作专班，"
                + "每月召开专班会议通报进展、研究举措，实行“清单化管理、项目化推进、销号制落实”，推动巡视反馈问题整改落地见效。",
            CreatedBy = "demo-data", CreatedAt = ReportDate, UpdatedBy = "demo-data", UpdatedAt = ReportDate,
            PublishedBy = "system", PublishedAt = ReportDate, Content = Content,
        };

        public static readonly SnapshotListItem ListItem = new()
        {
            Period = "2025-10", Revision = 1, Status = SnapshotStatus.Published, Origin = SnapshotOrigin.Drafted, PublishedRevision = 1,
            PublishedAt = ReportDate, UpdatedAt = ReportDate, CompletionRate = 64m,
        };

        public static readonly PushSnapshotRequest Push = new()
        {
            Narrative = Snapshot.Narrative,
            Progress =
            [
                new SnapshotProgressUpdate { MeasureId = 1, Percent = 85m, ReportedOn = new DateOnly(2025, 10, 31), Note = "跨部门综合监管实施意见正在办理会签" }
            ],
            Values = [new SnapshotValue { Indicator = "FUNERAL-PROBLEMS-FIXED", Unit = "460000", Value = 558m, Comment = "截至2025年10月中旬" }],
        };

        static readonly DateTime Pushed = new(2025, 11, 1, 1, 0, 0, DateTimeKind.Utc);

        public static readonly PushSnapshotResponse PushAnswer = new()
        {
            Changed = true, ProgressApplied = 1, ProgressUnchanged = 0, ValuesInserted = 1, ValuesUpdated = 0, ValuesUnchanged = 0,
            Snapshot = Snapshot with
            {
                Status = SnapshotStatus.Draft, Origin = SnapshotOrigin.Pushed, CreatedBy = "province-civil-affairs", CreatedAt = Pushed,
                UpdatedBy = "province-civil-affairs", UpdatedAt = Pushed, PublishedBy = null, PublishedAt = null,
                Content = Content with
                {
                    TakenAt = Pushed,
                    Measures = [Content.Measures[0] with { LatestNote = "跨部门综合监管实施意见正在办理会签" }],
                },
            },
        };

        public static readonly SnapshotDiff Diff = new()
        {
            Round = "HN-8-6-6", From = "2025-09", FromRevision = 1, To = "2025-10", ToRevision = 1,
            IssueStates = [new StateChange(7, "7", "履行监督责任不够有力", "in_progress", "pending_review")],
            MeasureStates =
            [
                new StateChange(20, "7.2", "不断深化监督效能", "in_progress", "done", 90m, 100m),
                new StateChange(22, "8.2", "加强党建规范化建设", "in_progress", "done", 95m, 100m),
            ],
            MeasuresCompleted = [new SnapshotItemRef(20, "7.2", "不断深化监督效能"), new SnapshotItemRef(22, "8.2", "加强党建规范化建设")],
            NewlyOverdue = [], MeasuresAdded = [], MeasuresRemoved = [],
            Indicators = [new IndicatorChange("FUNERAL-PROBLEMS-FIXED", "殡葬领域专项整治完成整改问题数", "个", "2025-09", null, "2025-10", 558m, null)],
            CompletionRateFrom = 56m, CompletionRateTo = 64m,
        };
    }
}
