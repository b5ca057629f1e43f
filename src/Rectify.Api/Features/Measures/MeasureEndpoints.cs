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
            .WithDescription("Rectification measures (整改措施), oldest first, keyset paged. Filter by issue, round, owner unit, state, due date "
                + $"range, overdue or traffic light. Answers JSON only: the same selection as one CSV file is GET {ExportPath} (an Accept that "
                + "prefers text/csv is a 406 naming it).")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status406NotAcceptable)
            .WithEnumQueryParameter<MeasureState>("state")
            .WithEnumQueryParameter<TrafficLight>("trafficLight")
            .WithEnumQueryParameter<Warnings.WarningLevel>("warning")
            .WithExample(response: new Page<MeasureResponse>([Examples.Measure], null));

        group.MapGet("/export", Export).RequireScope(Scopes.Read)
            .WithName("ExportMeasures")
            .WithSummary("Export measures as CSV")
            .WithDescription("Every measure the filters select (the list's filters, without paging), oldest first, streamed as one CSV file "
                + "(measures.csv, UTF-8 with BOM) for spreadsheets.")
            .ProducesCsv($"Every selected measure (no paging), oldest first, UTF-8 with BOM, CRLF, header {CsvExport.HeaderText(CsvColumns)}.",
                CsvExport.Text(CsvColumns, Examples.Measure))
            .ProducesValidationProblem()
            .WithEnumQueryParameter<MeasureState>("state")
            .WithEnumQueryParameter<TrafficLight>("trafficLight")
            .WithEnumQueryParameter<Warnings.WarningLevel>("warning");

        group.MapGet("/{id:long}", Get).RequireScope(Scopes.Read).ProducesETag()
            .WithName("GetMeasure")
            .WithSummary("Get a measure with its progress entries and evidence")
            .WithDescription("One measure with derived overdue flag and traffic light, its progress entries and its evidence. The ETag "
                + "header is the version for If-Match.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithExample(response: Examples.Measure with { ProgressEntries = [Examples.Progress], Evidence = Examples.AllEvidence });

        group.MapPost("/", Create).RequireScope(Scopes.Write).ProducesETag()
            .WithName("CreateMeasure")
            .WithSummary("Create a measure")
            .WithDescription("Adds a measure to an issue; it starts planned at 0%. Refused (409) under a closed issue. Send an "
                + "Idempotency-Key header to make retries safe.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithExample(Examples.Create, Examples.Measure with
            {
                State = MeasureState.Planned, Progress = 0, AllowedTransitions = MeasureStates.AllowedFrom(MeasureState.Planned)
            });

        group.MapPut("/{id:long}", Update).RequireScope(Scopes.Write).ProducesETag()
            .WithName("UpdateMeasure")
            .WithSummary("Update a measure")
            .WithDescription("Replaces the measure's fields and may change its state (planned → in_progress → done; cancelled with a reason; done "
                + "reopened to in_progress). Requires If-Match.")
            .ProducesUpdateProblems()
            .WithExample(Examples.Update, Examples.Measure);

        group.MapPost("/{id:long}/progress", AddProgress).RequireScope(Scopes.Write)
            .ProducesETag("The measure's new version (the entry moves its progress): send it in If-Match to change the measure.")
            .WithLocation("The measure the entry was added to.")
            .WithName("AddMeasureProgress")
            .WithSummary("Report progress")
            .WithDescription("Records a progress entry (date, percent, note) and moves the measure forward: planned becomes in_progress, 100% "
                + "makes it done. Progress never goes backwards (422). If-Match is optional; when sent it must match. Idempotency-Key is honoured.")
            .ProducesActionProblems()
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithExample(Examples.AddProgress, Examples.Progress);

        group.MapPost("/{id:long}/evidence", AddEvidence).RequireScope(Scopes.Write).WithLocation("The measure the evidence was added to.")
            .WithName("AddMeasureEvidence")
            .WithSummary("Add evidence")
            .WithDescription("Records a document or output that proves the measure, e.g. a regulation issued (《海南省公墓管理办法》). Titles are unique per "
                + "measure (409). Idempotency-Key is honoured.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithExample(Examples.AddEvidence, Examples.Evidence);

        return routes;
    }

    const string ExportPath = "/api/v1/measures/export";

    static async Task<KeptOk<Page<MeasureResponse>>> List([AsParameters] MeasureListQuery query, MeasureUseCases measures, HttpContext http,
        CancellationToken ct)
    {
        CsvExport.RefuseCsv(http, ExportPath);
        return new(await measures.ListAsync(query, ct));
    }

    static IResult Export([AsParameters] MeasureListQuery query, MeasureUseCases measures, CancellationToken ct)
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
        new("originalDueDate", m => m.OriginalDueDate), new("deferralCount", m => m.DeferralCount),
        new("warningLevel", m => m.WarningLevel is { } level ? EnumText.Format(level) : null),
    ];

    static async Task<KeptOk<MeasureResponse>> Get(long id, MeasureUseCases measures, HttpContext http, CancellationToken ct)
    {
        var measure = await measures.GetAsync(id, ct);
        ETags.Set(http, measure.Version!.Value);
        return new(measure);
    }

    static Task<Results<Created<MeasureResponse>, Replayed>> Create(CreateMeasureRequest request, MeasureUseCases measures, IdempotentCreates creates,
        HttpContext http, CancellationToken ct)
        => creates.CreateAsync(http, request, async (tx, token) =>
        {
            var (measure, version) = await measures.CreateAsync(tx, request, token);
            return new CreatedAnswer<MeasureResponse>($"/api/v1/measures/{measure.Id}", measure, version);
        }, ct);

    static async Task<Ok<MeasureResponse>> Update(long id, UpdateMeasureRequest request, MeasureUseCases measures, HttpContext http,
        CancellationToken ct)
    {
        var (measure, version) = await measures.UpdateAsync(id, request, ETags.RequiredVersion(http), ct);
        ETags.Set(http, version);
        return TypedResults.Ok(measure);
    }

    static Task<Results<Created<ProgressEntryResponse>, Replayed>> AddProgress(long id, AddProgressRequest request, MeasureUseCases measures,
        IdempotentCreates creates, HttpContext http, CancellationToken ct)
    {
        var expected = ETags.OptionalVersion(http);
        return creates.CreateAsync(http, request, async (tx, token) =>
        {
            var (entry, version) = await measures.AddProgressAsync(tx, id, request, expected, token);
            return new CreatedAnswer<ProgressEntryResponse>($"/api/v1/measures/{id}", entry, version);
        }, ct);
    }

    static Task<Results<Created<EvidenceResponse>, Replayed>> AddEvidence(long id, AddEvidenceRequest request, MeasureUseCases measures,
        IdempotentCreates creates, HttpContext http, CancellationToken ct)
        => creates.CreateAsync(http, request, async (tx, token) =>
            new CreatedAnswer<EvidenceResponse>($"/api/v1/measures/{id}", await measures.AddEvidenceAsync(tx, id, request, token)), ct);

    /// <summary>Measures 1.1 and 1.2 of the reference case (issue 1 殡葬改革推行不力), as the demo data holds them.</summary>
    internal static class Examples
    {
        public static readonly MeasureResponse Measure = new()
        {
            Id = 1, IssueId = 1, Round = "HN-8-6-6", Code = "1.1", Title = "整治殡葬乱象",
            Description = "一是规范殡葬服务管理：会同省发展改革委指导市县制定殡葬服务收费标准，开展经营性公墓成本核算、推动降低收费标准，完善殡仪馆、公墓等机构内部管理机制，上线殡葬阳光服务平台公布收费项目和标准；"
                + "全省殡葬服务机构取消收费项目75项、降低收费标准119项、优化服务流程120项（见一、(一)）。二是加强行业监管：会同省市场监管局等13个部门研究制定跨部门综合监管实施意见（正在办理会签），按“一案一策”分层分类整治殡葬设施违规占地，"
                + "联合执法查处违规销售墓穴、建设超标准墓穴。三是加大宣传引导：印发《关于加强农村红白理事会建设进一步促进移风易俗的通知》等文件，联合省委宣传部、省应急管理厅、省林业局、省消防救援总队通过新闻发布会、倡议书、宣传视频和公益海报引导节地生态安葬。四是完善体制机制："
                + "会同相关部门出台《海南省公墓管理办法》《海南省经营性公墓年度检查办法》，指导市县制定殡葬收费、服务机构规范管理等政策文件。",
            OwnerUnit = "HNMZT.SHSW", State = MeasureState.InProgress, Progress = 85, StartDate = new DateOnly(2025, 3, 1),
            DueDate = new DateOnly(2025, 12, 31), Overdue = false, TrafficLight = TrafficLight.Green,
            AllowedTransitions = MeasureStates.AllowedFrom(MeasureState.InProgress),
            CreatedAt = new DateTime(2025, 3, 1, 1, 0, 0, DateTimeKind.Utc), UpdatedAt = new DateTime(2025, 11, 5, 2, 0, 0, DateTimeKind.Utc),
            OriginalDueDate = new DateOnly(2025, 12, 31), DeferralCount = 0,
        };

        public static readonly MeasureResponse Infrastructure = Measure with
        {
            Id = 2, Code = "1.2", Title = "加大殡葬基础设施建设力度",
            Description = "推动将“公益性公墓安葬(放)设施覆盖率”“节地生态安葬率”纳入市县年度综合考核指标体系，建立殡葬项目月报制度；加快推进27个在建项目，截至2025年10月中旬，三亚市、万宁市、文昌市、五指山市已完成殡仪馆项目建设及设备安装调试；"
                + "澄迈县、临高县、屯昌县、五指山市、琼中黎族苗族自治县、陵水黎族自治县等市县积极谋划新建公益性公墓项目；全省66个殡葬基础设施项目纳入省“十五五”重大项目清单。",
            Progress = 40, DueDate = new DateOnly(2026, 6, 30), OriginalDueDate = new DateOnly(2026, 6, 30),
        };

        public static readonly CreateMeasureRequest Create = new()
        {
            IssueId = 1, Code = "1.1", Title = Measure.Title, Description = Measure.Description, OwnerUnit = Measure.OwnerUnit,
            StartDate = Measure.StartDate, DueDate = Measure.DueDate,
        };

        public static readonly UpdateMeasureRequest Update = new()
        {
            Title = Measure.Title, Description = Measure.Description, OwnerUnit = Measure.OwnerUnit, StartDate = Measure.StartDate,
            DueDate = Measure.DueDate, State = MeasureState.InProgress,
        };

        public static readonly AddProgressRequest AddProgress = new()
        {
            ReportedOn = new DateOnly(2025, 11, 5), Percent = 85, Note = "据2025年11月整改进展情况通报"
        };

        public static readonly ProgressEntryResponse Progress = new()
        {
            Id = 1, MeasureId = 1, ReportedOn = AddProgress.ReportedOn, Percent = AddProgress.Percent, Note = AddProgress.Note,
            RecordedBy = "demo-data", RecordedAt = new DateTime(2025, 11, 5, 2, 0, 0, DateTimeKind.Utc),
        };

        /// <summary>The reference report names no 文号, URL or date for its documents: the demo data holds the title alone.</summary>
        public static readonly AddEvidenceRequest AddEvidence = new() { Title = "海南省公墓管理办法" };

        public static readonly EvidenceResponse Evidence = new()
        {
            Id = 3, MeasureId = 1, Title = AddEvidence.Title, RecordedBy = "demo-data",
            RecordedAt = new DateTime(2025, 11, 5, 2, 0, 0, DateTimeKind.Utc),
        };

        /// <summary>What the report names as the outputs of 1.1.</summary>
        public static readonly IReadOnlyList<EvidenceResponse> AllEvidence =
        [
            Evidence with { Id = 1, Title = "殡葬阳光服务平台" },
            Evidence with { Id = 2, Title = "关于加强农村红白理事会建设进一步促进移风易俗的通知" },
            Evidence,
            Evidence with { Id = 4, Title = "海南省经营性公墓年度检查办法" },
        ];
    }
}
