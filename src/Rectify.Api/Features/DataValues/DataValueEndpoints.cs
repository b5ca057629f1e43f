using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Infrastructure.Http;
using Rectify.Api.Infrastructure.OpenApi;
using Rectify.Api.Infrastructure.Problems;
using Rectify.Api.Infrastructure.Telemetry;

namespace Rectify.Api.Features.DataValues;

public static class DataValueEndpoints
{
    public static IEndpointRouteBuilder MapDataValues(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/data-values").WithTags("Data values");

        group.MapGet("/", List).RequireScope(Scopes.Read)
            .WithName("ListDataValues")
            .WithSummary("List indicator values")
            .WithDescription("Values by indicator, unit (or unit subtree), period range and source, in key order, keyset paged. Answers JSON "
                + $"only: the same selection as one CSV file is GET {ExportPath} (an Accept that prefers text/csv is a 406 naming it).")
            .Produces<Page<DataValueResponse>>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status406NotAcceptable)
            .WithExample(response: new Page<DataValueResponse>([Examples.Value], null));

        group.MapGet("/export", Export).RequireScope(Scopes.Read)
            .WithName("ExportDataValues")
            .WithSummary("Export indicator values as CSV")
            .WithDescription("Every value the filters select (the list's filters, without paging), in key order, streamed from the database "
                + "as one CSV file (data-values.csv, UTF-8 with BOM).")
            .ProducesCsv("Every selected value (no paging), UTF-8 with BOM, CRLF, header indicator,unit,period,value,comment,source,updatedAt.",
                Examples.CsvExport)
            .ProducesValidationProblem();

        group.MapGet("/template", Template).RequireScope(Scopes.Read)
            .WithName("GetDataValueTemplate")
            .WithSummary("A workbook to fill in for the monthly push")
            .WithDescription("""
                An xlsx with one row per expected report of the month (each indicator × each unit that reports it, as the completeness view
                counts them), for the indicators named (default: every monthly one) and the units under unit (default: those the caller reads).
                Columns A–E are the push's (指标代码,单位代码,期间,数值,备注; the value empty, checked as a number); to the right the indicator's
                name and unit of measure, the unit's name and the reporting deadline. Fill in the values and push the workbook back unedited.
                """)
            .Produces<string>(StatusCodes.Status200OK, XlsxExport.MediaType)
            .WithXlsxResponse("The template workbook, one sheet named after the month, the header row frozen.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status403Forbidden);

        group.MapGet("/deletions", Deletions).RequireScope(Scopes.Read)
            .WithName("ListDataValueDeletions")
            .WithSummary("List deleted values")
            .WithDescription("Values removed by delete pushes, oldest first, keyset paged, so that a system that copies values can drop them too.")
            .ProducesValidationProblem()
            .WithExample(response: new Page<DataValueDeletionResponse>([Examples.Deletion], null));

        group.MapPost("/import", Import).RequireScope(Scopes.Push)
            .WithName("ImportDataValues")
            .WithSummary("Push indicator values (monthly push)")
            .WithDescription("""
                Takes indicator values as text/csv (header indicator,unit,period,value,comment; UTF-8 with or without BOM; CRLF or LF; quoted fields),
                application/json (an array of values, or an object with values) or an xlsx workbook (the same columns on the first sheet or the
                one sheet= names, headers in English or Chinese; cells typed as numbers, text or dates for periods; a formula counts with its
                saved result; GET /api/v1/data-values/template gives one to fill in). An encrypted workbook, an .xls, a zip that is not a
                workbook or expands far beyond its size is a 4xx and writes nothing. The body is streamed and checked row by row, then merged in one
                transaction. strategy=upsert (default) inserts or changes, create only inserts, delete removes the named values (value may be empty).
                atomic=true (default): any rejected row refuses the whole push with a 422 problem carrying the summary, nothing is written.
                atomic=false: good rows land and bad rows are listed, with 200 even when every row is rejected (applied: false). dryRun=true checks
                and counts, writes nothing. Counts are exact; an unchanged value is not rewritten. Values a published snapshot locks (its indicators,
                in its round's region and below, for its period) need revisionReason; without it they are rejected rows naming the snapshot. Send an
                Idempotency-Key (e.g. the file's SHA-256): a replay returns the first summary without writing again.
                """)
            .Accepts<IReadOnlyList<DataValueInput>>("application/json", "text/csv", ImportWorkbook.MediaType)
            .WithJsonBodyArrayOrWrapped("values")
            .Produces<ImportSummary>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .Produces<ImportRejectedProblem>(StatusCodes.Status422UnprocessableEntity, "application/problem+json")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithEnumQueryParameter<ImportStrategy>("strategy")
            .WithMetadata(new AcceptsIdempotencyKey())
            .WithPushMetrics()
            .WithExample(Examples.Push, Examples.Summary)
            .WithRejectedRowLanguages()
            .WithCsvRequest("CSV with the header indicator,unit,period,value,comment.", Examples.Csv)
            .WithXlsxRequest("An xlsx workbook: the first sheet (or sheet=) holds the header indicator,unit,period,value,comment "
                + "(or 指标代码,单位代码,期间,数值,备注) in columns A–E and one value per row; columns to the right are ignored. "
                + "Rejected rows are named by their sheet row number.");

        return routes;
    }

    const string ExportPath = "/api/v1/data-values/export";

    /// <summary>
    /// The push says its rejected rows in the caller's language too: the Accept-Language header says so on this
    /// operation, and the 422 shows the same refused push answered in English and in Chinese.
    /// </summary>
    static RouteHandlerBuilder WithRejectedRowLanguages(this RouteHandlerBuilder builder)
        => builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            const string description = "The language of a problem's title, detail and field messages, and of the messages of the "
                + "summary's rejected rows (Row 12: … / 第12行：…): zh-CN (or zh, zh-Hans) for Chinese, en for English; without it, "
                + "the service's default (Localization:DefaultLanguage, English unless configured). The problem type, the field keys "
                + "and the summary's members (row, field) are the same in every language.";
            operation.Parameters ??= [];
            if (operation.Parameters.FirstOrDefault(p => p.Name == "Accept-Language") is OpenApiParameter header) header.Description = description;
            else
                operation.Parameters.Add(new OpenApiParameter
                {
                    Name = "Accept-Language", In = ParameterLocation.Header, Required = false, Description = description,
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String }, Example = JsonValue.Create("zh-CN"),
                });
            if (operation.Responses?.TryGetValue("422", out var refused) == true
                && refused.Content?.TryGetValue("application/problem+json", out var media) == true)
                media.Examples = new Dictionary<string, IOpenApiExample>
                {
                    ["en"] = new Microsoft.OpenApi.OpenApiExample
                    {
                        Summary = "Accept-Language: en", Value = Examples.RefusedEnglish,
                    },
                    ["zh-CN"] = new Microsoft.OpenApi.OpenApiExample
                    {
                        Summary = "Accept-Language: zh-CN", Value = Examples.RefusedChinese,
                    },
                };
            return Task.CompletedTask;
        });

    /// <summary>
    /// The JSON body is an array of values or an object whose only field is <paramref name="field"/>, the same array
    /// (see ImportReaders): say both, as oneOf, where the generator sees the array only.
    /// </summary>
    static RouteHandlerBuilder WithJsonBodyArrayOrWrapped(this RouteHandlerBuilder builder, string field)
        => builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            if (operation.RequestBody?.Content?.TryGetValue("application/json", out var json) != true || json!.Schema is not { } array)
                return Task.CompletedTask;
            json.Schema = new OpenApiSchema
            {
                OneOf =
                [
                    array,
                    new OpenApiSchema
                    {
                        Type = JsonSchemaType.Object, Required = new HashSet<string>([field]), AdditionalPropertiesAllowed = false,
                        Properties = new Dictionary<string, IOpenApiSchema> { [field] = array },
                        Description = $"The same values wrapped in an object: {{\"{field}\": [...]}}.",
                    },
                ],
            };
            return Task.CompletedTask;
        });

    static async Task<Ok<Page<DataValueResponse>>> List([AsParameters] DataValueListQuery query, DataValueUseCases values, HttpContext http,
        CancellationToken ct)
    {
        CsvExport.RefuseCsv(http, ExportPath);
        return TypedResults.Ok(await values.ListAsync(query, ct));
    }

    static IResult Export([AsParameters] DataValueListQuery query, DataValueUseCases values, CancellationToken ct) => values.Export(query, ct);

    static Task<IResult> Template([AsParameters] TemplateQuery query, ImportTemplate template, CancellationToken ct)
        => template.BuildAsync(query, ct);

    static async Task<Ok<Page<DataValueDeletionResponse>>> Deletions([AsParameters] DeletionListQuery query, DataValueUseCases values,
        CancellationToken ct)
        => TypedResults.Ok(await values.DeletionsAsync(query, ct));

    /// <summary>
    /// The HTTP side of a push: the query's options, the Idempotency-Key, the media type and the body cap; the import
    /// reads, checks and merges, and its result is answered here (a replay as first answered, a refusal as a 422 problem).
    /// </summary>
    static async Task<IResult> Import([AsParameters] ImportQuery query, DataValueImport import, IdempotentCreates idempotency,
        IOptions<ImportOptions> options, HttpContext http, CancellationToken ct)
    {
        var strategy = EnumText.Parse<ImportStrategy>(QueryEnums.Checked<ImportStrategy>(query.Strategy, "strategy") ?? "upsert");
        var key = IdempotentCreates.KeyOf(http);
        var format = FormatOf(http.Request.ContentType);
        var maxBytes = options.Value.MaxBodyBytes;
        // Kestrel then refuses a declared Content-Length over the cap before reading; ImportBody counts too, for a chunked
        // body and for servers without the feature (the in-memory test server).
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = maxBytes;

        await using var body = new ImportBody(http.Request.Body, maxBytes, $"{http.Request.ContentType}\n{http.Request.QueryString}\n");
        var receipt = key is null ? null : new KeyedReceipt(idempotency, http, key, body);
        if (query.Sheet is not null && format != ImportFormat.Xlsx)
            throw Refuse.Invalid("sheet", "sheet names the sheet of an xlsx push; a CSV or JSON push has none.");
        var command = new ImportCommand(format, strategy, query.Atomic ?? true, query.DryRun ?? false, query.RevisionReason, query.Sheet,
            ProblemLanguages.Translator(http));
        // The rejected rows are said in the caller's language, as a problem is.
        http.Response.Headers.ContentLanguage = ProblemLanguages.LanguageOf(http);
        return await import.RunAsync(command, body, receipt, ct) switch
        {
            ImportResult.Done done => TypedResults.Ok(done.Summary),
            ImportResult.Replayed => receipt?.Replay ?? throw new InvalidOperationException("A replay without a stored answer."),
            ImportResult.Refused refused => throw Rejected(refused.Summary),
            ImportResult.TooManyRows many => throw ImportProblems.TooManyRows(many.Max),
            var other => throw new InvalidOperationException($"An import result without an answer: {other}."),
        };
    }

    static ImportFormat FormatOf(string? contentType)
    {
        var media = contentType?.Split(';')[0].Trim();
        if (string.Equals(media, "text/csv", StringComparison.OrdinalIgnoreCase)) return ImportFormat.Csv;
        if (string.Equals(media, "application/json", StringComparison.OrdinalIgnoreCase)) return ImportFormat.Json;
        if (string.Equals(media, ImportWorkbook.MediaType, StringComparison.OrdinalIgnoreCase)) return ImportFormat.Xlsx;
        throw new ProblemException(StatusCodes.Status415UnsupportedMediaType, ProblemTypes.UnsupportedMediaType, "Unsupported media type",
            "Send the push as text/csv (header indicator,unit,period,value,comment), application/json or an xlsx workbook "
            + "(application/vnd.openxmlformats-officedocument.spreadsheetml.sheet).");
    }

    /// <summary>The 422 of an atomic push with rejected rows, carrying its summary (see ImportRejectedProblem).</summary>
    static ProblemException Rejected(ImportSummary summary) => new(StatusCodes.Status422UnprocessableEntity, ProblemTypes.ImportRejected,
        "The push was refused",
        new Text("{0} of {1} rows were rejected and the push is atomic, so nothing was written. "
            + "See summary.errors; fix the rows, or send atomic=false to land the good rows.", summary.Rejected, summary.Received),
        new Dictionary<string, object?> { ["summary"] = summary });

    /// <summary>The push's Idempotency-Key, claimed and answered in the push's transaction; a replay is kept for the answer.</summary>
    sealed class KeyedReceipt(IdempotentCreates idempotency, HttpContext http, string key, ImportBody body) : IImportReceipt
    {
        readonly string _operation = $"POST {http.Request.Path}";

        public IResult? Replay { get; private set; }

        public async Task<bool> ReplayedAsync(Tx tx, ImportSummary summary, CancellationToken ct)
        {
            Replay = await idempotency.ClaimAsync<ImportSummary>(tx, http, key, _operation, body.Hash, ct,
                new Dictionary<string, object?> { ["summary"] = summary });
            return Replay is not null;
        }

        public Task StoreAsync(Tx tx, ImportSummary summary, CancellationToken ct)
            => idempotency.StoreAsync(tx, key, StatusCodes.Status200OK, null, null, summary, ct);
    }

    static class Examples
    {
        // The reference case's September figures as the demo data holds them: the lottery's monthly split of the report's
        // 6.97亿元 (1—9月) in 万元 and the 18.6万 dibao recipients.
        const string LotteryComment = "演示拆分；2025年1—9月合计69700万元 = 报告6.97亿元";
        const string DibaoComment = "报告：18.6万人";

        public static readonly DataValueInput[] Push =
        [
            new() { Indicator = "LOTTERY-SALES", Unit = "460000", Period = "2025-09", Value = 8520m, Comment = LotteryComment },
            new() { Indicator = "DIBAO-RECIPIENTS", Unit = "460000", Period = "2025-09", Value = 186000m, Comment = DibaoComment },
        ];

        public static readonly DataValueResponse Value = new("LOTTERY-SALES", "460000", "2025-09", 8520m, LotteryComment, "demo-data",
            new DateTime(2025, 10, 1, 1, 0, 0, DateTimeKind.Utc), new DateTime(2025, 10, 1, 1, 0, 0, DateTimeKind.Utc));

        public static readonly DataValueDeletionResponse Deletion = new(41, "DIBAO-RECIPIENTS", "460000", "2025-09", 186000m, "demo-data",
            new DateTime(2025, 10, 9, 2, 30, 0, DateTimeKind.Utc));

        public const string CsvExport = "\uFEFFindicator,unit,period,value,comment,source,updatedAt\r\n"
            + "LOTTERY-SALES,460000,2025-09,8520," + LotteryComment + ",demo-data,2025-10-01T01:00:00Z\r\n";

        public const string Csv = "indicator,unit,period,value,comment\r\nLOTTERY-SALES,460000,2025-09,8520," + LotteryComment
            + "\r\nDIBAO-RECIPIENTS,460000,2025-09,186000," + DibaoComment + "\r\n";

        // An xlsx push of four rows refused for two: its rows named by their sheet row number, in each language.
        public static JsonNode RefusedEnglish => Refused("The push was refused",
            "2 of 4 rows were rejected and the push is atomic, so nothing was written. "
                + "See summary.errors; fix the rows, or send atomic=false to land the good rows.",
            "Row 3: Unknown unit '469999'.",
            "Row 5: '1,200' is not a number: use digits with an optional '-' and '.' (no thousands separators).");

        public static JsonNode RefusedChinese => Refused("报送被拒绝",
            "4 行中有 2 行被拒绝；本次报送为整体提交，因此未写入任何数据。详见 summary.errors；请更正这些行，或以 atomic=false 报送以写入正确的行。",
            "第3行：未知单位“469999”。",
            "第5行：“1,200”不是数字：请只用数字，可带“-”和“.”（不加千位分隔符）。");

        static JsonNode Refused(string title, string detail, string unitRow, string valueRow) => new JsonObject
        {
            ["type"] = ProblemTypes.ImportRejected, ["title"] = title, ["status"] = 422, ["detail"] = detail,
            ["instance"] = "/api/v1/data-values/import", ["traceId"] = "4bf92f3577b34da6a3ce929d0e0e4736",
            ["summary"] = new JsonObject
            {
                ["importId"] = "7f1c2a9e-4b1d-4c55-9a51-2f3e8d0c6b11", ["dryRun"] = false, ["strategy"] = "upsert", ["atomic"] = true,
                ["applied"] = false, ["received"] = 4, ["inserted"] = 0, ["updated"] = 0, ["unchanged"] = 0, ["deleted"] = 0,
                ["rejected"] = 2,
                ["errors"] = new JsonArray(
                    new JsonObject { ["row"] = 3, ["field"] = "unit", ["message"] = unitRow },
                    new JsonObject { ["row"] = 5, ["field"] = "value", ["message"] = valueRow }),
                ["errorsTruncated"] = false,
            },
        };

        public static readonly ImportSummary Summary = new()
        {
            ImportId = Guid.Parse("7f1c2a9e-4b1d-4c55-9a51-2f3e8d0c6b11"), DryRun = false, Strategy = ImportStrategy.Upsert, Atomic = true,
            Applied = true,
            Received = 2, Inserted = 2, Updated = 0, Unchanged = 0, Deleted = 0, Rejected = 0, Errors = [], ErrorsTruncated = false,
        };
    }
}
