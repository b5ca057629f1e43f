using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Infrastructure.Http;
using RatioParts = Rectify.Api.Features.Indicators.IndicatorRepository.RatioParts;

namespace Rectify.Api.Features.Indicators;

/// <summary>
/// The indicator catalogue: rules across fields, ratio parts, the shape an indicator with values keeps, the journal and
/// the transaction. Series are read by <see cref="IndicatorSeries"/>.
/// </summary>
public sealed class IndicatorUseCases(Db db, IndicatorRepository indicators, Journal.JournalWriter journal, Clock clock)
{
    public Task<Page<IndicatorResponse>> ListAsync(IndicatorListQuery query, CancellationToken ct)
        => indicators.ListAsync(query, QueryEnums.Checked<IndicatorValueType>(query.ValueType, "valueType"), ct);

    public async Task<(IndicatorResponse Indicator, int Version)> GetAsync(string code, CancellationToken ct)
        => await indicators.FindAsync(code, ct) ?? throw Refuse.NotFound("indicator", code);

    /// <summary>Creates the indicator on <paramref name="tx"/> (the Idempotency-Key's transaction).</summary>
    public async Task<(IndicatorResponse Indicator, int Version)> CreateAsync(Tx tx, CreateIndicatorRequest request, CancellationToken ct)
    {
        Validate(request);
        var parts = await RatioPartsAsync(tx, request, ct);
        var id = await indicators.InsertAsync(tx, request.Code, request, parts, clock.UtcNow, ct);
        await SaveLinksAsync(tx, id, request, ct);
        var created = await indicators.FindAsync(tx, request.Code, ct);
        await journal.RecordAsync(tx, "indicator", created.Code, "create", null, created.ToResponse(), ct);
        return (created.ToResponse(), created.Version);
    }

    public Task<(IndicatorResponse Indicator, int Version)> UpdateAsync(string code, UpdateIndicatorRequest request, int? expectedVersion,
        CancellationToken ct)
        => db.WriteAsync(async (tx, token) =>
        {
            Validate(request);
            var before = Versions.Expect(await indicators.LockAsync(tx, code, token), expectedVersion, "indicator", code);
            await EnsureShapeKeptAsync(tx, before, request, token);
            var parts = await RatioPartsAsync(tx, request, token);
            if (parts.Numerator == before.Id || parts.Denominator == before.Id)
                throw Refuse.DoesNotFit(parts.Numerator == before.Id ? "numerator" : "denominator", "A ratio cannot be a part of itself.");
            await indicators.UpdateAsync(tx, code, request, parts, clock.UtcNow, token);
            await SaveLinksAsync(tx, before.Id, request, token);
            var after = await indicators.FindAsync(tx, code, token);
            await journal.RecordAsync(tx, "indicator", code, "update", before.ToResponse(), after.ToResponse(), token);
            return (after.ToResponse(), after.Version);
        }, ct);

    /// <summary>Deletes an indicator that has no values and is no part of a ratio (409 otherwise).</summary>
    public Task DeleteAsync(string code, int? expectedVersion, CancellationToken ct)
        => db.WriteAsync(async (tx, token) =>
        {
            var before = Versions.Expect(await indicators.LockAsync(tx, code, token), expectedVersion, "indicator", code);
            var usage = await indicators.UsageAsync(tx, before.Id, token);
            if (usage.Values > 0) throw Refuse.Conflict($"Indicator '{code}' has {usage.Values} values: delete them first (strategy=delete).");
            if (usage.Ratios > 0) throw Refuse.Conflict($"Indicator '{code}' is a part of a ratio indicator: change or delete that first.");
            await indicators.DeleteAsync(tx, before.Id, token);
            await journal.RecordAsync(tx, "indicator", code, "delete", before.ToResponse(), null, token);
            return true;
        }, ct);

    /// <summary>Rules across fields, answered as 400s naming the field before anything is written.</summary>
    static void Validate(IndicatorFields fields)
    {
        var errors = new Dictionary<string, string[]>();
        var isRatio = fields.ValueType == IndicatorValueType.Ratio;
        if (isRatio && fields.Numerator is null) errors["numerator"] = ["A ratio indicator needs a numerator."];
        if (isRatio && fields.Denominator is null) errors["denominator"] = ["A ratio indicator needs a denominator."];
        if (!isRatio && fields.Numerator is not null) errors["numerator"] = ["Only a ratio indicator has a numerator."];
        if (!isRatio && fields.Denominator is not null) errors["denominator"] = ["Only a ratio indicator has a denominator."];
        if (isRatio && fields.Numerator is not null && fields.Numerator == fields.Denominator)
            errors["denominator"] = ["The denominator must be another indicator than the numerator."];
        if ((fields.BaselineValue is null) != (fields.BaselinePeriod is null))
            errors["baselinePeriod"] = ["baselineValue and baselinePeriod go together."];
        if (fields.BaselinePeriod is not null && Period.TryParse(fields.BaselinePeriod, fields.Frequency) is null)
            errors["baselinePeriod"] = [$"Use the indicator's frequency: {Period.Example(fields.Frequency)}."];
        if (fields.Reporters.Any(string.IsNullOrWhiteSpace)) errors["reporters"] = ["Unit codes must not be empty."];
        if (errors.Count > 0) throw Refuse.Invalid(errors);
    }

    async Task<RatioParts> RatioPartsAsync(Tx tx, IndicatorFields fields, CancellationToken ct)
    {
        if (fields.ValueType != IndicatorValueType.Ratio) return default;
        return new RatioParts(await PartAsync(tx, fields.Numerator!, "numerator", fields.Frequency, ct),
            await PartAsync(tx, fields.Denominator!, "denominator", fields.Frequency, ct));
    }

    async Task<long> PartAsync(Tx tx, string code, string field, IndicatorFrequency frequency, CancellationToken ct)
    {
        var part = await indicators.PartAsync(tx, code, ct) ?? throw Refuse.DoesNotFit(field, $"No indicator '{code}' exists.");
        if (part.ValueType == "ratio") throw Refuse.DoesNotFit(field, $"'{code}' is a ratio itself: a ratio's parts are pushed indicators.");
        // The ratio is divided period by period: parts of another frequency have no value in any of its periods.
        if (part.Frequency != EnumText.Format(frequency))
            throw Refuse.DoesNotFit(field,
                $"'{code}' is {part.Frequency}: a ratio's parts have the ratio's frequency ({EnumText.Format(frequency)}).");
        return part.Id;
    }

    /// <summary>
    /// Values are stored under periods of the indicator's frequency, and a ratio divides parts of its own frequency
    /// that are pushed: changing the frequency or whether it is a ratio would orphan the values or break the ratio.
    /// </summary>
    async Task EnsureShapeKeptAsync(Tx tx, IndicatorRow before, IndicatorFields after, CancellationToken ct)
    {
        var changesShape = before.FrequencyValue != after.Frequency || (before.ValueType == "ratio") != (after.ValueType == IndicatorValueType.Ratio);
        if (!changesShape) return;
        var usage = await indicators.UsageAsync(tx, before.Id, ct);
        if (usage.Values > 0) throw Refuse.Conflict($"Indicator '{before.Code}' has values: its frequency and whether it is a ratio cannot change.");
        if (usage.Ratios > 0)
        {
            throw Refuse.Conflict(
                $"Indicator '{before.Code}' is a part of a ratio indicator: its frequency and whether it is a ratio cannot change.");
        }
    }

    /// <summary>The links are saved once every unit, issue and measure they name exists (422 naming the first field that does not).</summary>
    async Task SaveLinksAsync(Tx tx, long id, IndicatorFields fields, CancellationToken ct)
    {
        var missing = await indicators.MissingLinksAsync(tx, fields, ct);
        EnsureNoneMissing(missing.Units, "reporters", "unit");
        EnsureNoneMissing(missing.Issues, "issues", "issue");
        EnsureNoneMissing(missing.Measures, "measures", "measure");
        await indicators.SaveLinksAsync(tx, id, fields, ct);
    }

    static void EnsureNoneMissing(IReadOnlyList<string> missing, string field, string what)
    {
        if (missing.Count > 0) throw Refuse.DoesNotFit(field, $"No {what} {string.Join(", ", missing.Select(m => $"'{m}'"))} exists.");
    }
}
