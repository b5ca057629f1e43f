using Microsoft.AspNetCore.Http.HttpResults;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Http;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Rectify.Api.Infrastructure.OpenApi;
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
            .WithDescription($"Values by indicator, unit (or unit subtree), period range and source, in key order, keyset paged. Answers JSON only: the same selection as one CSV file is GET {ExportPath} (an Accept that prefers text/csv is a 406 naming it).")
            .Produces<Page<DataValueResponse>>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status406NotAcceptable)
            .WithExample(response: new Page<DataValueResponse>([Examples.Value], null));

        group.MapGet("/export", Export).RequireScope(Scopes.Read)
            .WithName("ExportDataValues")
            .WithSummary("Export indicator values as CSV")
            .WithDescription("Every value the filters select (the list's filters, without paging), in key order, streamed from the database as one CSV file (data-values.csv, UTF-8 with BOM).")
            .ProducesCsv("Every selected value (no paging), UTF-8 with BOM, CRLF, header indicator,unit,period,value,comment,source,updatedAt.", Examples.CsvExport)
            .ProducesValidationProblem();

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
                Takes indicator values as text/csv (header indicator,unit,period,value,comment; UTF-8 with or without BOM; CRLF or LF; quoted fields)
                or application/json (an array of values, or an object with values). The body is streamed and checked row by row, then merged in one
                transaction. strategy=upsert (default) inserts or changes, create only inserts, delete removes the named values (value may be empty).
                atomic=true (default): any rejected row refuses the whole push with a 422 problem carrying the summary, nothing is written.
                atomic=false: good rows land and bad rows are listed, with 200 even when every row is rejected (applied: false). dryRun=true checks
                and counts, writes nothing. Counts are exact; an unchanged value is not rewritten. Values a published snapshot locks (its indicators,
                in its round's region and below, for its period) need revisionReason; without it they are rejected rows naming the snapshot. Send an
                Idempotency-Key (e.g. the file's SHA-256): a replay returns the first summary without writing again.
                """)
            .Accepts<IReadOnlyList<DataValueInput>>("application/json", "text/csv")
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
            .WithCsvRequest("CSV with the header indicator,unit,period,value,comment.", Examples.Csv);

        return routes;
    }

    const string ExportPath = "/api/v1/data-values/export";

    /// <summary>
    /// The JSON body is an array of values or an object whose only field is <paramref name="field"/>, the same array
    /// (see ImportReaders): say both, as oneOf, where the generator sees the array only.
    /// </summary>
    static RouteHandlerBuilder WithJsonBodyArrayOrWrapped(this RouteHandlerBuilder builder, string field)
        => builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            if (operation.RequestBody?.Content?.TryGetValue("application/json", out var json) != true || json!.Schema is not { } array) return Task.CompletedTask;
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

    static async Task<Ok<Page<DataValueResponse>>> List([AsParameters] DataValueListQuery query, DataValueRepository values, HttpContext http, CancellationToken ct)
    {
        CsvExport.RefuseCsv(http, ExportPath);
        return TypedResults.Ok(await values.ListAsync(query, ct));
    }

    static IResult Export([AsParameters] DataValueListQuery query, DataValueRepository values, CancellationToken ct)
        => Results.Stream(body => values.WriteCsvAsync(query, body, ct), CsvExport.ContentType, "data-values.csv");

    static async Task<Ok<Page<DataValueDeletionResponse>>> Deletions([AsParameters] DeletionListQuery query, DataValueRepository values, CancellationToken ct)
        => TypedResults.Ok(await values.DeletionsAsync(query, ct));

    static Task<IResult> Import([AsParameters] ImportQuery query, DataValueImporter importer, HttpContext http, CancellationToken ct)
        => importer.ImportAsync(http, query, ct);

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

        public const string CsvExport = "\uFEFFindicator,unit,period,value,comment,source,updatedAt\r\nLOTTERY-SALES,460000,2025-09,8520," + LotteryComment + ",demo-data,2025-10-01T01:00:00Z\r\n";

        public const string Csv = "indicator,unit,period,value,comment\r\nLOTTERY-SALES,460000,2025-09,8520," + LotteryComment + "\r\nDIBAO-RECIPIENTS,460000,2025-09,186000," + DibaoComment + "\r\n";

        public static readonly ImportSummary Summary = new()
        {
            ImportId = Guid.Parse("7f1c2a9e-4b1d-4c55-9a51-2f3e8d0c6b11"), DryRun = false, Strategy = ImportStrategy.Upsert, Atomic = true, Applied = true,
            Received = 2, Inserted = 2, Updated = 0, Unchanged = 0, Deleted = 0, Rejected = 0, Errors = [], ErrorsTruncated = false,
        };
    }
}
