using System.Diagnostics.Metrics;

namespace Rectify.Api.Infrastructure.Telemetry;

/// <summary>
/// What operators watch, on the <c>Rectify</c> meter: pushes and their rows by outcome, how long a push takes, snapshot
/// publishes, rate-limit refusals by client. Each is recorded by one call where the thing happens. Tags stay few and
/// bounded (outcomes, registered client names), never keys, units or periods.
/// </summary>
public sealed class RectifyMetrics
{
    public const string MeterName = "Rectify";

    readonly Counter<long> _pushes;
    readonly Counter<long> _pushRows;
    readonly Histogram<double> _pushDuration;
    readonly Counter<long> _publishes;
    readonly Counter<long> _refusals;

    public RectifyMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _pushes = meter.CreateCounter<long>("rectify.pushes", "{push}",
            "Data-value pushes by outcome: applied, refused, dry-run, not-applied, replayed, failed.");
        _pushRows =
            meter.CreateCounter<long>("rectify.push.rows", "{row}", "Rows of pushes by outcome: inserted, updated, unchanged, deleted, rejected.");
        _pushDuration =
            meter.CreateHistogram<double>("rectify.push.duration", "s", "How long a data-value push took, body reading included, by outcome.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600] });
        _publishes = meter.CreateCounter<long>("rectify.snapshot.publishes", "{snapshot}", "Month-end snapshots published (frozen).");
        _refusals =
            meter.CreateCounter<long>("rectify.rate_limit.refusals", "{request}",
            "Requests refused with 429 by the per-node rate limit, by client and limit.");
    }

    /// <summary>One push ended; <paramref name="rows"/> are counted for pushes that wrote or rejected rows (not replays or dry runs).</summary>
    public void Pushed(string outcome, TimeSpan duration, PushRows? rows)
    {
        var tag = new KeyValuePair<string, object?>("outcome", outcome);
        _pushes.Add(1, tag);
        _pushDuration.Record(duration.TotalSeconds, tag);
        if (rows is not { } counted) return;
        Rows("inserted", counted.Inserted);
        Rows("updated", counted.Updated);
        Rows("unchanged", counted.Unchanged);
        Rows("deleted", counted.Deleted);
        Rows("rejected", counted.Rejected);
    }

    void Rows(string outcome, long count)
    {
        if (count > 0) _pushRows.Add(count, new KeyValuePair<string, object?>("outcome", outcome));
    }

    public void Published() => _publishes.Add(1);

    /// <summary>A request refused by the rate limit; <paramref name="client"/> is the registered client's name, or anonymous.</summary>
    public void RateLimited(string client, string limit)
        => _refusals.Add(1, new KeyValuePair<string, object?>("client", client), new KeyValuePair<string, object?>("limit", limit));
}

/// <summary>A push's rows by outcome.</summary>
public readonly record struct PushRows(long Inserted, long Updated, long Unchanged, long Deleted, long Rejected);
