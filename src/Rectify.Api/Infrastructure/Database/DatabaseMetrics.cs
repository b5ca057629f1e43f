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
}
