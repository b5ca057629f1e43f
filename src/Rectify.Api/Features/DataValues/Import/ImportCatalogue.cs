using System.Globalization;
using Dapper;
using Rectify.Api.Features.Indicators;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Database;

namespace Rectify.Api.Features.DataValues;

/// <summary>A row that passed every check that needs no database round trip, ready for staging.</summary>
readonly record struct StagedRow(long Row, long IndicatorId, string Unit, string Period, decimal Value, string? Comment);

/// <summary>
/// What a push is checked against, read once before the body is: indicators and units (small tables). Each row is
/// then checked in memory as it streams in, so a rejected row is named with its field without a query per row, and
/// duplicates within the push are found before anything reaches PostgreSQL. Locks of published snapshots depend on
/// the unit tree and the snapshots' content: they are checked on the staged rows, in one statement (see ValueLocks).
/// </summary>
sealed class ImportCatalogue
{
    sealed record IndicatorEntry(int Index, long Id, IndicatorFrequency Frequency, bool IsRatio);

    readonly Dictionary<string, IndicatorEntry> _indicators;
    readonly Dictionary<string, int> _units;
    // The months whose published snapshots could lock a checked row (each period's last month).
    readonly HashSet<Period> _periods = [];
    // Key of each staged row (indicator, unit, period packed in 64 bits) → its row number, to name the first of a duplicate.
    readonly Dictionary<long, long> _seen = [];

    // The units the calling client may write for (its units and those below them); null: every unit.
    readonly HashSet<string>? _writable;

    ImportCatalogue(Dictionary<string, IndicatorEntry> indicators, Dictionary<string, int> units, HashSet<string>? writable)
        => (_indicators, _units, _writable) = (indicators, units, writable);

    /// <summary>The catalogue read on a pooled connection of its own, before any transaction (an import reads its body first).</summary>
    public static Task<ImportCatalogue> LoadAsync(Db db, Infrastructure.Auth.Caller caller, CancellationToken ct)
        => db.ReadAsync((connection, token) => LoadAsync(connection, null, caller, token), ct);

    /// <summary>The catalogue read on the caller's transaction (a snapshot push, which holds its month's lock meanwhile).</summary>
    public static Task<ImportCatalogue> LoadAsync(Tx tx, Infrastructure.Auth.Caller caller, CancellationToken ct)
        => LoadAsync(tx.Connection, tx.Transaction, caller, ct);

    static async Task<ImportCatalogue> LoadAsync(System.Data.IDbConnection connection, System.Data.IDbTransaction? transaction,
        Infrastructure.Auth.Caller caller, CancellationToken ct)
    {
        var indicators = (await connection.QueryAsync<(long Id, string Code, string Frequency, string ValueType)>(
                new CommandDefinition("SELECT id, code, frequency, value_type FROM indicators ORDER BY id",
                    transaction: transaction, cancellationToken: ct)))
            .Select((i, index) => (i.Code,
                Entry: new IndicatorEntry(index, i.Id, EnumText.Parse<IndicatorFrequency>(i.Frequency), i.ValueType == "ratio")))
            .ToDictionary(i => i.Code, i => i.Entry, StringComparer.Ordinal);
        var units = (await connection.QueryAsync<string>(new CommandDefinition("SELECT code FROM units ORDER BY code",
                transaction: transaction, cancellationToken: ct)))
            .Select((code, index) => (code, index))
            .ToDictionary(u => u.code, u => u.index, StringComparer.Ordinal);
        var writable = await Infrastructure.Auth.UnitScope.WritableUnitsAsync(connection, transaction, caller, ct);
        return new ImportCatalogue(indicators, units, writable);
    }

    /// <summary>Whether the calling client may write values for <paramref name="unit"/>.</summary>
    public bool MayWrite(string unit) => _writable is null || _writable.Contains(unit);

    /// <summary>The months whose published snapshots may lock a row checked so far.</summary>
    public string[] LockingMonths() => _periods.Select(ValueLocks.LockingMonth).Distinct().ToArray();

    /// <summary>Checks one row: a staged row, or the first reason it is rejected.</summary>
    public (StagedRow Row, RowRejection? Error) Check(in RawRow raw, ImportStrategy strategy)
    {
        if (raw.Problem is { } problem) return (default, problem);
        var row = raw.Row;
        RowRejection Reject(string field, Text reason) => new(row, field, reason);

        var indicatorCode = raw.Indicator?.Trim();
        if (string.IsNullOrEmpty(indicatorCode)) return (default, Reject("indicator", "The indicator code is required."));
        if (!_indicators.TryGetValue(indicatorCode, out var indicator))
            return (default, Reject("indicator", $"Unknown indicator '{Clip(indicatorCode)}'."));
        if (indicator.IsRatio)
            return (default, Reject("indicator",
                $"'{indicatorCode}' is a ratio indicator: it is computed from its numerator and denominator and cannot be pushed."));

        var unitCode = raw.Unit?.Trim();
        if (string.IsNullOrEmpty(unitCode)) return (default, Reject("unit", "The unit code is required."));
        if (!_units.TryGetValue(unitCode, out var unitIndex)) return (default, Reject("unit", $"Unknown unit '{Clip(unitCode)}'."));
        if (_writable is not null && !_writable.Contains(unitCode))
            return (default, Reject("unit", $"Unit '{unitCode}' is outside the units this client may write for."));

        var periodText = raw.Period?.Trim();
        if (Period.TryParse(periodText, indicator.Frequency) is not { } period)
            return (default, Reject("period",
                $"'{Clip(periodText ?? "")}' is not a period of '{indicatorCode}': use {Example(indicator.Frequency)}."));
        var periodKey = period.ToString();

        decimal value = 0;
        if (strategy != ImportStrategy.Delete)
        {
            var text = raw.Value?.Trim();
            if (string.IsNullOrEmpty(text)) return (default, Reject("value", "The value is required."));
            const NumberStyles number = NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent;
            if (!decimal.TryParse(text, number, CultureInfo.InvariantCulture, out value))
                return (default, Reject("value",
                    $"'{Clip(text)}' is not a number: use digits with an optional '-' and '.' (no thousands separators)."));
        }

        var comment = string.IsNullOrEmpty(raw.Comment) ? null : raw.Comment;
        if (comment is { Length: > 2000 }) return (default, Reject("comment", "The comment is longer than 2000 characters."));
        // PostgreSQL text cannot hold NUL: let through, it would fail the COPY and with it the whole push.
        if (comment is not null && comment.Contains('\0', StringComparison.Ordinal))
            return (default, Reject("comment", "The comment contains a NUL character."));

        var key = ((long)indicator.Index << 40) | ((long)unitIndex << 16) | (long)((period.Year - 1900) * 13 + period.Index);
        if (!_seen.TryAdd(key, row))
            return (default, Reject("row",
                $"Duplicate of row {_seen[key]}: the same indicator, unit and period appear twice in this push."));

        _periods.Add(period);
        return (new StagedRow(row, indicator.Id, unitCode, periodKey, value, comment), null);
    }

    /// <summary>How a period of <paramref name="frequency"/> is written, to be said in the caller's language.</summary>
    static Text Example(IndicatorFrequency frequency) => frequency switch
    {
        IndicatorFrequency.Monthly => "YYYY-MM, e.g. 2025-09",
        IndicatorFrequency.Quarterly => "YYYY-Qn, e.g. 2025-Q3",
        _ => "YYYY, e.g. 2025",
    };

    /// <summary>Echoes at most 64 characters of what the caller sent, so that a hostile row cannot inflate the report.</summary>
    static string Clip(string text) => text.Length <= 64 ? text : text[..64] + "…";
}
