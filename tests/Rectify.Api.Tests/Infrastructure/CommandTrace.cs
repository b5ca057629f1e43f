using System.Collections.Concurrent;
using System.Diagnostics;

namespace Rectify.Api.Tests.Infrastructure;

/// <summary>
/// The database commands one request runs, counted through Npgsql's tracing (an Activity per command on the "Npgsql"
/// ActivitySource). The request carries a trace id of its own, so that commands of other tests running at the same time
/// (each class has its own database, but tracing is process-wide) are not counted.
/// </summary>
public static class CommandTrace
{
    /// <summary>Sends <paramref name="request"/> and returns its response with the commands it ran, each written to <paramref
    /// name="output"/>.</summary>
    public static async Task<(HttpResponseMessage Response, IReadOnlyList<Activity> Commands)> SendAsync(HttpClient client,
        HttpRequestMessage request,
        ITestOutputHelper output)
    {
        var traceId = ActivityTraceId.CreateRandom();
        var commands = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            // ASP.NET Core's request activity continues the trace the request names; Npgsql's command activities are its children.
            ShouldListenTo = source => source.Name is "Npgsql" or "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> options) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.Source.Name == "Npgsql" && activity.TraceId == traceId) commands.Enqueue(activity);
            },
        };
        ActivitySource.AddActivityListener(listener);

        request.Headers.Add("traceparent", $"00-{traceId.ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
        var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        foreach (var command in commands)
        {
            var sql = (command.GetTagItem("db.query.text") ?? command.GetTagItem("db.statement"))?.ToString() ?? "";
            output.WriteLine($"{command.Duration.TotalMilliseconds,6:0.0} ms  {sql.Split('\n')[0].Trim()}");
        }
        return (response, commands.ToList());
    }
}
