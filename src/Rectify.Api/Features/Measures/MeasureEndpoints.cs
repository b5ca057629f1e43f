using Microsoft.AspNetCore.Http.HttpResults;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Http;
using Rectify.Api.Infrastructure.OpenApi;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Features.Measures;

public static class MeasureEndpoints
{
    public static IEndpointRouteBuilder MapMeasures(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/measures").WithTags("Measures");

        group.MapGet("/", List).RequireScope(Scopes.Read)
            .WithName("ListMeasures")
            .WithSummary("List measures")
            .WithDescription($"Rectification measures (整改措施), oldest first, keyset paged. Filter by issue, round, owner unit, state, due date range, overdue or traffic light. Answers JSON only: the same selection as one CSV file is GET {ExportPath} (an Accept that prefers text/csv is a 406 naming it).")
            .Produces<Page<MeasureResponse>>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status406NotAcceptable)
            .WithEnumQueryParameter<MeasureState>("state")
            .WithEnumQueryParameter<TrafficLight>("trafficLight")
            .WithExample(response: new Page<MeasureResponse>([Examples.Measure], null));

        group.MapGet("/export", Export).RequireScope(Scopes.Read)
            .WithName("ExportMeasures")
            .WithSummary("Export measures as CSV")
            .WithDescription("Every measure the filters select (the list's filters, without paging), oldest first, streamed as one CSV file (measures.csv, UTF-8 with BOM) for spreadsheets.")
            .ProducesCsv($"Every selected measure (no paging), oldest first, UTF-8 with BOM, CRLF, header {CsvExport.HeaderText(CsvColumns)}.",
                CsvExport.Text(CsvColumns, Examples.Measure))
            .ProducesValidationProblem()
            .WithEnumQueryParameter<MeasureState>("state")
            .WithEnumQueryParameter<TrafficLight>("trafficLight");

        group.MapGet("/{id:long}", Get).RequireScope(Scopes.Read).ProducesETag()
            .WithName("GetMeasure")
            .WithSummary("Get a measure with its progress entries and evidence")
            .WithDescription("One measure with derived overdue flag and traffic light, its progress entries and its evidence. The ETag header is the version for If-Match.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithExample(response: Examples.Measure with { ProgressEntries = [Examples.Progress], Evidence = [Examples.Evidence] });

        group.MapPost("/", Create).RequireScope(Scopes.Write).ProducesETag()
            .WithName("CreateMeasure")
            .WithSummary("Create a measure")
            .WithDescription("Adds a measure to an issue; it starts planned at 0%. Refused (409) under a closed issue. Send an Idempotency-Key header to make retries safe.")
            .Produces<MeasureResponse>(StatusCodes.Status201Created)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithExample(Examples.Create, Examples.Measure with { State = MeasureState.Planned, Progress = 0 });

        group.MapPut("/{id:long}", Update).RequireScope(Scopes.Write).ProducesETag()
            .WithName("UpdateMeasure")
            .WithSummary("Update a measure")
            .WithDescription("Replaces the measure's fields and may change its state (planned → in_progress → done; cancelled with a reason; done reopened to in_progress). Requires If-Match.")
            .ProducesUpdateProblems()
            .WithExample(Examples.Update, Examples.Measure);

        group.MapPost("/{id:long}/progress", AddProgress).RequireScope(Scopes.Write)
            .ProducesETag("The measure's new version (the entry moves its progress): send it in If-Match to change the measure.")
            .WithLocation("The measure the entry was added to.")
            .WithName("AddMeasureProgress")
            .WithSummary("Report progress")
            .WithDescription("Records a progress entry (date, percent, note) and moves the measure forward: planned becomes in_progress, 100% makes it done. Progress never goes backwards (422). If-Match is optional; when sent it must match. Idempotency-Key is honoured.")
            .Produces<ProgressEntryResponse>(StatusCodes.Status201Created)
            .ProducesActionProblems()
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithExample(new AddProgressRequest { ReportedOn = new DateOnly(2025, 10, 15), Percent = 65, Note = "截至2025年10月中旬，项目主体完成65%。" }, Examples.Progress);

        group.MapPost("/{id:long}/evidence", AddEvidence).RequireScope(Scopes.Write).WithLocation("The measure the evidence was added to.")
            .WithName("AddMeasureEvidence")
            .WithSummary("Add evidence")
            .WithDescription("Records a document or output that proves the measure, e.g. a regulation issued (《海南省公墓管理办法》). Titles are unique per measure (409). Idempotency-Key is honoured.")
            .Produces<EvidenceResponse>(StatusCodes.Status201Created)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithExample(new AddEvidenceRequest { Title = "海南省公墓管理办法", DocumentNumber = "琼府〔2025〕12号", IssuedOn = new DateOnly(2025, 6, 30) }, Examples.Evidence);

        return routes;
    }

    const string ExportPath = "/api/v1/measures/export";

    static async Task<Ok<Page<MeasureResponse>>> List([AsParameters] MeasureListQuery query, MeasureRepository measures, HttpContext http, CancellationToken ct)
    {
        CsvExport.RefuseCsv(http, ExportPath);
        return TypedResults.Ok(await measures.ListAsync(query, ct));
    }

    static IResult Export([AsParameters] MeasureListQuery query, MeasureRepository measures, CancellationToken ct)
        => CsvExport.File("measures.csv", CsvColumns, measures.ExportAsync(query, ct), ct);

    /// <summary>The CSV export's columns: the list item's scalar fields in its order and names, without the arrays (allowedTransitions).</summary>
    static readonly CsvColumn<MeasureResponse>[] CsvColumns =
    [
        new("id", m => m.Id), new("issueId", m => m.IssueId), new("round", m => m.Round), new("code", m => m.Code), new("title", m => m.Title),
        new("description", m => m.Description), new("ownerUnit", m => m.OwnerUnit), new("state", m => EnumText.Format(m.State)),
        new("progress", m => m.Progress), new("startDate", m => m.StartDate), new("dueDate", m => m.DueDate), new("completedOn", m => m.CompletedOn),
        new("cancelReason", m => m.CancelReason), new("overdue", m => m.Overdue),
        new("trafficLight", m => m.TrafficLight is { } light ? EnumText.Format(light) : null),
        new("createdAt", m => m.CreatedAt), new("updatedAt", m => m.UpdatedAt),
    ];

    static async Task<Ok<MeasureResponse>> Get(long id, MeasureRepository measures, HttpContext http, CancellationToken ct)
    {
        var (measure, version) = await measures.FindAsync(id, ct) ?? throw Problem.NotFound("measure", id);
        ETags.Set(http, version);
        return TypedResults.Ok(measure);
    }

    static Task<IResult> Create(CreateMeasureRequest request, MeasureRepository measures, IdempotentCreates creates, HttpContext http, CancellationToken ct)
        => creates.CreateAsync(http, request, async (tx, token) =>
        {
            var (measure, version) = await measures.CreateAsync(tx, request, token);
            ETags.Set(http, version);
            return TypedResults.Created($"/api/v1/measures/{measure.Id}", measure);
        }, ct);

    static async Task<Ok<MeasureResponse>> Update(long id, UpdateMeasureRequest request, MeasureRepository measures, HttpContext http, CancellationToken ct)
    {
        var (measure, version) = await measures.UpdateAsync(id, request, ETags.RequiredVersion(http), ct);
        ETags.Set(http, version);
        return TypedResults.Ok(measure);
    }

    static Task<IResult> AddProgress(long id, AddProgressRequest request, MeasureRepository measures, IdempotentCreates creates, HttpContext http, CancellationToken ct)
    {
        var expected = ETags.OptionalVersion(http);
        return creates.CreateAsync(http, request, async (tx, token) =>
        {
            var (entry, version) = await measures.AddProgressAsync(tx, id, request, expected, token);
            ETags.Set(http, version);
            return TypedResults.Created($"/api/v1/measures/{id}", entry);
        }, ct);
    }

    static Task<IResult> AddEvidence(long id, AddEvidenceRequest request, MeasureRepository measures, IdempotentCreates creates, HttpContext http, CancellationToken ct)
        => creates.CreateAsync(http, request, async (tx, token) =>
            TypedResults.Created($"/api/v1/measures/{id}", await measures.AddEvidenceAsync(tx, id, request, token)), ct);

    static class Examples
    {
        public static readonly MeasureResponse Measure = new()
        {
            Id = 2, IssueId = 1, Round = "HN-8-6-6", Code = "1.2", Title = "加大殡葬基础设施建设力度",
            Description = "加快推进27个在建项目建设；三亚市、万宁市、文昌市、五指山市已完成殡仪馆项目建设及设备安装调试。",
            OwnerUnit = "HNMZT.SHSW", State = MeasureState.InProgress, Progress = 40, StartDate = new DateOnly(2025, 3, 1),
            DueDate = new DateOnly(2026, 6, 30), Overdue = false, TrafficLight = TrafficLight.Green,
            AllowedTransitions = MeasureStates.AllowedFrom(MeasureState.InProgress),
            CreatedAt = new DateTime(2025, 3, 1, 1, 0, 0, DateTimeKind.Utc), UpdatedAt = new DateTime(2025, 10, 20, 2, 0, 0, DateTimeKind.Utc),
        };

        public static readonly CreateMeasureRequest Create = new()
        {
            IssueId = 1, Code = "1.2", Title = Measure.Title, Description = Measure.Description, OwnerUnit = Measure.OwnerUnit,
            StartDate = Measure.StartDate, DueDate = Measure.DueDate,
        };

        public static readonly UpdateMeasureRequest Update = new()
        {
            Title = Measure.Title, Description = Measure.Description, OwnerUnit = Measure.OwnerUnit, StartDate = Measure.StartDate,
            DueDate = Measure.DueDate, State = MeasureState.InProgress,
        };

        public static readonly ProgressEntryResponse Progress = new()
        {
            Id = 7, MeasureId = 2, ReportedOn = new DateOnly(2025, 10, 15), Percent = 65, Note = "截至2025年10月中旬，项目主体完成65%。",
            RecordedBy = "hainan-supervision-platform", RecordedAt = new DateTime(2025, 10, 15, 8, 0, 0, DateTimeKind.Utc),
        };

        public static readonly EvidenceResponse Evidence = new()
        {
            Id = 3, MeasureId = 2, Title = "海南省公墓管理办法", DocumentNumber = "琼府〔2025〕12号", IssuedOn = new DateOnly(2025, 6, 30),
            RecordedBy = "hainan-supervision-platform", RecordedAt = new DateTime(2025, 7, 1, 2, 0, 0, DateTimeKind.Utc),
        };
    }
}
