using System.Diagnostics.Metrics;
using Polly.CircuitBreaker;

namespace Rectify.Api.Infrastructure.Database;

/// <summary>
/// Counters of the database resilience pipeline, on the <c>Rectify.Database</c> meter, so that any
/// OpenTelemetry or dotnet-counters listener can read retries and the circuit's state.
/// </summary>
public sealed class DatabaseMetrics
{
    public const string MeterName = "Rectify.Database";

    readonly Meter _meter;
    readonly Counter<long> _retries;
    readonly Counter<long> _circuitOpened;

    public DatabaseMetrics(IMeterFactory meters)
    {
        _meter = meters.Create(MeterName);
        _retries = _meter.CreateCounter<long>("rectify.db.retries", description: "Units of database work retried after a transient error.");
        _circuitOpened = _meter.CreateCounter<long>("rectify.db.circuit.opened", description: "Times the database circuit breaker opened.");
    }

    public void Retried() => _retries.Add(1);

    public void CircuitOpened() => _circuitOpened.Add(1);

    /// <summary>Publishes the circuit's state: 0 closed, 1 open, 2 half-open, 3 isolated.</summary>
    public void ObserveCircuit(Func<CircuitState> state)
        => _meter.CreateObservableGauge("rectify.db.circuit.state", () => (int)state(), description: "0 closed, 1 open, 2 half-open, 3 isolated.");

    /// <summary>Publishes each standby's replay lag, in seconds and in bytes of WAL, as the replica monitor last saw it.</summary>
    public void ObserveReplicas(Func<IReadOnlyList<ReplicaStatus>> statuses)
    {
        _meter.CreateObservableGauge("rectify.replica.lag", () => statuses()
            .Where(s => s.LagSeconds is not null)
            .Select(s => new Measurement<double>(s.LagSeconds!.Value, new KeyValuePair<string, object?>("host", s.Host))),
            unit: "s",
                description: "A standby's replay lag: seconds since the last transaction it replayed, 0 when it has replayed all it received.");
        _meter.CreateObservableGauge("rectify.replica.lag.size", () => statuses()
            .Where(s => s.LagBytes is not null)
            .Select(s => new Measurement<long>(s.LagBytes!.Value, new KeyValuePair<string, object?>("host", s.Host))),
            unit: "By", description: "Bytes of WAL the primary has written that a standby has not replayed yet.");
        _meter.CreateObservableGauge("rectify.replica.reachable", () => statuses()
            .Select(s =>
                new Measurement<int>(s.Role == "unreachable" ? 0 : 1, new KeyValuePair<string, object?>("host", s.Host), new KeyValuePair<string,
                object?>("role", s.Role))),
            description: "1 when a configured database host answered the replica check, 0 when it did not.");
    }
}
