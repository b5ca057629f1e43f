using Microsoft.AspNetCore.Http.HttpResults;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Http;
using Rectify.Api.Infrastructure.OpenApi;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Features.Indicators;

public static class IndicatorEndpoints
{
    public static IEndpointRouteBuilder MapIndicators(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/indicators").WithTags("Indicators");

        group.MapGet("/", List).RequireScope(Scopes.Read)
            .WithName("ListIndicators")
            .WithSummary("List indicators")
            .WithDescription("The indicator catalogue (指标), oldest first, keyset paged. Filter by linked issue or measure, value type, or text in " +
                "code and names (e.g. q=彩票).")
            .ProducesValidationProblem()
            .WithEnumQueryParameter<IndicatorValueType>("valueType")
            .WithExample(response: new Page<IndicatorResponse>([Examples.Indicator], null));

        group.MapGet("/{code}", Get).RequireScope(Scopes.Read).ProducesETag()
            .WithName("GetIndicator")
            .WithSummary("Get an indicator")
            .WithDescription("One indicator by its code, with its reporters and links. The ETag header is the version for If-Match.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithExample(response: Examples.Indicator);

        group.MapGet("/{code}/series", Series).RequireScope(Scopes.Read)
            .WithName("GetIndicatorSeries")
            .WithSummary("Time series of an indicator at a unit")
            .WithDescription("One point per period from from to to: the value, the change against the previous period, year on year (absolute and " +
                "%), and progress towards the target. Missing periods are present with nulls. A parent region without its own value combines its " +
                "children (sum or average, as the indicator says); a ratio indicator is numerator / denominator, computed here.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithExample(response: Examples.Series);

        group.MapPost("/", Create).RequireScope(Scopes.Write).ProducesETag()
            .WithName("CreateIndicator")
            .WithSummary("Create an indicator")
            .WithDescription("Adds an indicator to the catalogue. A ratio indicator names a numerator and a denominator (two pushed indicators) " +
                "and is computed on read, never pushed. Send an Idempotency-Key header to make retries safe.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithExample(Examples.Create, Examples.Indicator);

        group.MapPut("/{code}", Update).RequireScope(Scopes.Write).ProducesETag()
            .WithName("UpdateIndicator")
            .WithSummary("Update an indicator")
            .WithDescription("Replaces the indicator's fields, reporters and links. Requires If-Match. Once values exist, the frequency and " +
                "whether it is a ratio cannot change (409).")
            .ProducesUpdateProblems()
            .WithExample(Examples.Update, Examples.Indicator with { ReportingDay = 15 });

        group.MapDelete("/{code}", Delete).RequireScope(Scopes.Write)
            .WithName("DeleteIndicator")
            .WithSummary("Delete an indicator")
            .WithDescription("Removes an indicator that has no values and is no part of a ratio (409 otherwise). Requires If-Match.")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesUpdateProblems();

        return routes;
    }

    static async Task<Ok<Page<IndicatorResponse>>> List([AsParameters] IndicatorListQuery query, IndicatorUseCases indicators, CancellationToken ct)
        => TypedResults.Ok(await indicators.ListAsync(query, ct));

    static async Task<Ok<IndicatorResponse>> Get(string code, IndicatorUseCases indicators, HttpContext http, CancellationToken ct)
    {
        var (indicator, version) = await indicators.GetAsync(code, ct);
        ETags.Set(http, version);
        return TypedResults.Ok(indicator);
    }

    static async Task<KeptOk<SeriesResponse>> Series(string code, [AsParameters] SeriesQuery query, IndicatorSeries series, CancellationToken ct)
        => new(await series.ReadJsonAsync(code, query, ct));

    static Task<Results<Created<IndicatorResponse>, Replayed>> Create(CreateIndicatorRequest request, IndicatorUseCases indicators,
        IdempotentCreates creates, HttpContext http, CancellationToken ct)
        => creates.CreateAsync(http, request, async (tx, token) =>
        {
            var (indicator, version) = await indicators.CreateAsync(tx, request, token);
            return new CreatedAnswer<IndicatorResponse>($"/api/v1/indicators/{Uri.EscapeDataString(indicator.Code)}", indicator, version);
        }, ct);

    static async Task<Ok<IndicatorResponse>> Update(string code, UpdateIndicatorRequest request, IndicatorUseCases indicators, HttpContext http,
        CancellationToken ct)
    {
        var (indicator, version) = await indicators.UpdateAsync(code, request, ETags.RequiredVersion(http), ct);
        ETags.Set(http, version);
        return TypedResults.Ok(indicator);
    }

    static async Task<NoContent> Delete(string code, IndicatorUseCases indicators, HttpContext http, CancellationToken ct)
    {
        await indicators.DeleteAsync(code, ETags.RequiredVersion(http), ct);
        return TypedResults.NoContent();
    }

    static class Examples
    {
        public static readonly IndicatorResponse Indicator = new()
        {
            Code = "LOTTERY-SALES", Name = "全省福利彩票销量", NameEn = "Welfare-lottery sales in the province",
            Description = "截至2025年9月，全省累计销售福利彩票6.97亿元，同比增长19.7%，增幅位列全国第一（二、(五)4.）。月度数据为按该累计数拆分的演示数据。",
            MeasureUnit = "万元",
            ValueType = IndicatorValueType.Amount, Frequency = IndicatorFrequency.Monthly, RegionAggregation = RegionAggregation.Sum,
            TimeAggregation = TimeAggregation.Flow, Direction = IndicatorDirection.HigherIsBetter, ReportingDay = 10,
            Reporters = ["460000"], Issues = [5], Measures = [15], CreatedAt = new DateTime(2025, 3, 1, 1, 0, 0, DateTimeKind.Utc),
            UpdatedAt = new DateTime(2025, 10, 10, 2, 0, 0, DateTimeKind.Utc),
        };

        public static readonly SeriesResponse Series = new("LOTTERY-SALES", "460000", "万元", IndicatorFrequency.Monthly, TimeAggregation.Flow,
            RegionAggregation.Sum, null,
            [
                // The demo data's monthly split of the report's 6.97亿元 (2025-01 to 09) and 2024's months.
                new SeriesPoint("2025-08", 8420m, 110m, 1500m, 21.68m, null),
                new SeriesPoint("2025-09", 8520m, 100m, 1571m, 22.61m, null),
            ]);

        public static readonly CreateIndicatorRequest Create = new()
        {
            Code = Indicator.Code, Name = Indicator.Name, NameEn = Indicator.NameEn, MeasureUnit = Indicator.MeasureUnit,
                ValueType = Indicator.ValueType,
            Frequency = Indicator.Frequency, RegionAggregation = Indicator.RegionAggregation, TimeAggregation = Indicator.TimeAggregation,
            Direction = Indicator.Direction, ReportingDay = Indicator.ReportingDay, Reporters = Indicator.Reporters, Issues = Indicator.Issues,
            Measures = Indicator.Measures, Description = Indicator.Description,
        };

        public static readonly UpdateIndicatorRequest Update = new()
        {
            Name = Indicator.Name, NameEn = Indicator.NameEn, MeasureUnit = Indicator.MeasureUnit, ValueType = Indicator.ValueType,
            Frequency = Indicator.Frequency, RegionAggregation = Indicator.RegionAggregation, TimeAggregation = Indicator.TimeAggregation,
            Direction = Indicator.Direction, ReportingDay = 15, Reporters = Indicator.Reporters, Issues = Indicator.Issues,
            Measures = Indicator.Measures, Description = Indicator.Description,
        };
    }
}
