using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Faults;

/// <summary>One answer under load, on the load's clock: when it was asked and answered, its status, and what was wrong with it.</summary>
public sealed record Answer(TimeSpan Started, TimeSpan Ended, int Status, string? Failure)
{
    public TimeSpan Took => Ended - Started;
}

/// <summary>
/// Readers that GET a list of URLs in a loop, each on its own client, as a steady load of callers. Every answer must be
/// a 200 or a 503 problem with Retry-After; anything else (a 500, a 503 without Retry-After, no answer) is a failure.
/// </summary>
public sealed class ReadLoad : IAsyncDisposable
{
    readonly CancellationTokenSource _stop = new();
    readonly ConcurrentQueue<Answer> _answers = new();
    readonly Stopwatch _clock = Stopwatch.StartNew();
    readonly TimeSpan _requestTimeout;
    readonly TimeSpan _pause;
    readonly Task[] _readers;

    /// <summary>Starts <paramref name="readers"/> readers, reader i reading <paramref name="urls"/>[i % count], pausing <paramref name="pause"/>
    /// between requests.</summary>
    public ReadLoad(StandaloneApp app, IReadOnlyList<string> urls, int readers, TimeSpan pause, TimeSpan requestTimeout)
    {
        _requestTimeout = requestTimeout;
        _pause = pause;
        _readers = Enumerable.Range(0, readers)
            .Select(i => Task.Run(() => ReadAsync(app, urls[i % urls.Count], _stop.Token), CancellationToken.None)).ToArray();
    }

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The load's clock, on which answers are timed.</summary>
    public TimeSpan Now => _clock.Elapsed;

    public int Readers => _readers.Length;

    public Answer[] Answers => [.. _answers];

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_readers);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }

    /// <summary>Asserts that every answer was a 200 or a 503 problem with Retry-After.</summary>
    public void AssertNoFailures()
    {
        var failures = Answers.Where(a => a.Failure is not null).ToArray();
        Assert.True(failures.Length == 0,
            $"{failures.Length} answers were neither 200 nor a 503 problem with Retry-After:\n"
                + string.Join('\n', failures.Take(10).Select(Describe)));
    }

    /// <summary>
    /// The end of the first 200 among the answers that started after the last answer other than 200 (after
    /// <paramref name="faultStarted"/>): from then on, readers are served again. Null while the last answers are still refusals.
    /// </summary>
    public TimeSpan? RecoveredAt(TimeSpan faultStarted)
    {
        var list = Answers;
        var lastRefusal = list.Where(a => a.Status != 200 && a.Started >= faultStarted).Select(a => a.Started).DefaultIfEmpty(faultStarted).Max();
        var served = list.Where(a => a.Status == 200 && a.Started > lastRefusal).Select(a => a.Ended).ToArray();
        return served.Length == 0 ? null : served.Min();
    }

    /// <summary>Reads on until every answer has been a 200 for <paramref name="steady"/>, or <paramref name="within"/> after <paramref
    /// name="since"/>.</summary>
    public async Task WaitForRecoveryAsync(TimeSpan faultStarted, TimeSpan since, TimeSpan within, TimeSpan steady)
    {
        while (Now - since < within && !(RecoveredAt(faultStarted) is { } recovered && Now - recovered > steady))
            await Task.Delay(100, Ct);
    }

    public string Summary()
        => "answers " + string.Join(", ", Answers.GroupBy(a => a.Status).OrderBy(g => g.Key).Select(g => $"{g.Count()}×{g.Key}"));

    public static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture) + " s";

    public static string Milliseconds(TimeSpan t) => t.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture) + " ms";

    /// <summary>The <paramref name="p"/>-th percentile (0–1) of <paramref name="values"/>, nearest rank.</summary>
    public static TimeSpan Percentile(IReadOnlyList<TimeSpan> values, double p)
    {
        var sorted = values.Order().ToArray();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    static string Describe(Answer a) => $"  [{Seconds(a.Started)} → {Seconds(a.Ended)}] {a.Failure}";

    async Task ReadAsync(StandaloneApp app, string url, CancellationToken stop)
    {
        using var client = app.Client(_requestTimeout);
        while (!stop.IsCancellationRequested)
        {
            var started = _clock.Elapsed;
            int status = 0;
            string? failure = null;
            try
            {
                using var response = await client.GetAsync(url, Ct);
                status = (int)response.StatusCode;
                var body = await response.Content.ReadAsStringAsync(Ct);
                if (status == 503)
                {
                    if (response.Headers.RetryAfter is null) failure = "503 without Retry-After: " + body;
                    else if (response.Content.Headers.ContentType?.MediaType != "application/problem+json"
                        || !body.Contains("urn:rectify:problem:", StringComparison.Ordinal))
                        failure = "503 that is not a problem: " + body;
                }
                else if (status != 200)
                {
                    failure = $"{status}: {body}";
                }
            }
            catch (TaskCanceledException) when (!Ct.IsCancellationRequested)
            {
                failure = $"no answer within {_requestTimeout.TotalSeconds} s";
            }
            catch (HttpRequestException e)
            {
                failure = "request failed: " + e.Message;
            }
            _answers.Enqueue(new Answer(started, _clock.Elapsed, status, failure));
            await Task.Delay(_pause, CancellationToken.None);
        }
    }
}

/// <summary>
/// The times the database circuit of one app opened, on its <c>Rectify.Database</c> meter (not the other test apps' in the
/// process), on the clock of <paramref name="now"/>.
/// </summary>
public sealed class CircuitOpenings : IDisposable
{
    readonly MeterListener _listener = new();
    readonly ConcurrentQueue<TimeSpan> _openings = new();

    public CircuitOpenings(StandaloneApp app, Func<TimeSpan> now)
    {
        var meters = app.Services.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Scope == meters && instrument.Name == "rectify.db.circuit.opened") listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((_, _, _, _) => _openings.Enqueue(now()));
        _listener.Start();
    }

    public TimeSpan[] Times => [.. _openings];

    public void Dispose() => _listener.Dispose();
}
