using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using CsCheck;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Fuzz;

/// <summary>
/// Bad input, tried at scale (issue 6): thousands of hostile requests, generated with CsCheck from a fixed seed,
/// against every operation of the OpenAPI document the service serves, on the demo data, through the real HTTP
/// pipeline and a real PostgreSQL. Each request must be answered below 500; every 4xx must be a well-formed RFC 9457
/// problem that tells nothing of the service's insides; a refused request must write nothing; and afterwards the
/// service must still answer normally.
/// Replay or widen a run with FUZZ_SEED (hex or decimal) and FUZZ_REQUESTS.
/// </summary>
public sealed class HostileRequestFuzzTests(RectifyAppWithDemoData app) : IClassFixture<RectifyAppWithDemoData>
{
    const ulong DefaultSeed = 0x5EED_0006_2025_1127;
    const int DefaultRequests = 6_000;
    static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    sealed class KindStats
    {
        public int Tried, Success, Refused, ServerErrors, NoAnswer, Failed;
        public TimeSpan Time, Generating;
    }

    sealed record Failure(int Index, FuzzRequest Request, Outcome Outcome, IReadOnlyList<string> Violations, IReadOnlyList<string> ServerLog)
    {
        public string Signature =>
            $"{Request.Kind} {Request.Operation.Name} → " +
            $"{(Outcome.Error is null ? Outcome.Status.ToString(CultureInfo.InvariantCulture) : "no answer")}: {Violations[0]}";
    }

    [Fact]
    public async Task Hostile_requests_against_every_operation_are_refused_with_problems_and_write_nothing()
    {
        var ct = TestContext.Current.CancellationToken;
        var seed = Setting("FUZZ_SEED", DefaultSeed);
        var total = (int)Setting("FUZZ_REQUESTS", DefaultRequests);
        var log = new ServerLog();
        app.Services.GetRequiredService<ILoggerFactory>().AddProvider(log);
        using var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        client.Timeout = Timeout.InfiniteTimeSpan;

        await WaitUntilReadyAsync(client, ct);
        var document = JsonNode.Parse(await client.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative), ct))!;
        var api = ApiDescription.Parse(document);
        Assert.NotEmpty(api.Operations);
        var documented = new OpenApi.DocumentedAnswers(document);
        var keys = await KnownKeys.LoadAsync(client, api, ct);
        Assert.NotEmpty(keys.Rounds);
        Assert.NotEmpty(keys.Issues);
        Assert.NotEmpty(keys.Measures);
        Assert.NotEmpty(keys.Indicators);
        Assert.NotEmpty(keys.Units);
        var factory = new RequestFactory(api, keys);
        var plan = Plan(api, seed, total);

        await using var watch = await TableWatch.OpenAsync(app.ConnectionString, ct);
        Say($"Fuzz: seed 0x{seed:X16}, {plan.Count} requests over {api.Operations.Count} operations of the live OpenAPI document.");
        Say($"Known keys from the demo data: {keys.Summary}.");
        Say($"Writes watched in {watch.Tables.Count} tables: {string.Join(", ", watch.Tables)}.");
        log.Drain();

        var stats = Enum.GetValues<FuzzKind>().ToDictionary(k => k, _ => new KindStats());
        var statuses = new SortedDictionary<int, int>();
        var operations = new Dictionary<string, int>(StringComparer.Ordinal);
        var failures = new List<Failure>();
        var unsendable = 0;
        var watching = TimeSpan.Zero;
        var building = TimeSpan.Zero;
        var writesSeen = 0;
        var stopwatch = Stopwatch.StartNew();
        var before = await watch.SnapshotAsync(ct);
        using var dump = Environment.GetEnvironmentVariable("FUZZ_DUMP") is { Length: > 0 } dumpPath ? new StreamWriter(dumpPath) : null;

        for (var i = 0; i < plan.Count; i++)
        {
            var (operation, kind, caseSeed) = plan[i];
            var buildStarted = Stopwatch.GetTimestamp();
            var request = factory.Build(operation, kind, caseSeed);
            building += Stopwatch.GetElapsedTime(buildStarted);
            stats[kind].Generating += Stopwatch.GetElapsedTime(buildStarted);
            HttpRequestMessage message;
            try
            {
                message = await MessageAsync(client, request, ct);
            }
            catch (Exception e) when (e is UriFormatException or NotSendableException)
            {
                unsendable++; // the client itself cannot put this on the wire: nothing reaches the service
                continue;
            }
            var outcome = await SendAsync(client, message, ct);
            var snapshotStarted = Stopwatch.GetTimestamp();
            var after = await watch.SnapshotAsync(ct);
            watching += Stopwatch.GetElapsedTime(snapshotStarted);
            var written = TableWatch.Diff(before, after);
            before = after;
            var serverLog = log.Drain();

            var violations = AnswerRules.Check(request, outcome);
            if (outcome.Error is null) violations.AddRange(documented.Check(request.Method, request.Url, outcome.Status, outcome.MediaType,
                outcome.Body, outcome.HeaderNames));
            if (outcome.Status is >= 400 and < 500 && written is not null) violations.Add($"refused with {outcome.Status} but wrote: {written}");
            if (outcome.Status is >= 200 and < 300 && written is not null) writesSeen++;

            if (dump is not null) await dump.WriteLineAsync(Dumped(i, request, outcome, written));
            var s = stats[kind];
            s.Tried++;
            s.Time += outcome.Elapsed;
            if (outcome.Error is not null) s.NoAnswer++;
            else if (outcome.Status >= 500) s.ServerErrors++;
            else if (outcome.Status >= 400) s.Refused++;
            else s.Success++;
            statuses[outcome.Status] = statuses.GetValueOrDefault(outcome.Status) + 1;
            operations[operation.Name] = operations.GetValueOrDefault(operation.Name) + 1;
            if (violations.Count > 0)
            {
                s.Failed++;
                failures.Add(new Failure(i, request, outcome, violations, serverLog));
            }
        }
        var elapsed = stopwatch.Elapsed;
        var report = Report(seed, plan.Count, stats, statuses, operations, api, failures, unsendable, elapsed, watching, building);
        Say(report);

        // Afterwards the service still answers normally.
        using (var rounds = await client.SendAsync(Get("/api/v1/rounds"), ct))
        {
            Assert.Equal(HttpStatusCode.OK, rounds.StatusCode);
            Assert.NotEmpty(JsonNode.Parse(await rounds.Content.ReadAsStringAsync(ct))!["items"]!.AsArray());
        }
        using (var round = await client.SendAsync(Get("/api/v1/rounds/" + Uri.EscapeDataString(keys.Rounds[0])), ct))
            Assert.Equal(HttpStatusCode.OK, round.StatusCode);
        using (var openApi = await client.SendAsync(Get("/openapi/v1.json"), ct))
            Assert.Equal(HttpStatusCode.OK, openApi.StatusCode);
        var serverErrors = stats.Values.Sum(k => k.ServerErrors + k.NoAnswer);
        Assert.True(failures.Count == 0, $"{failures.Count} of {plan.Count} hostile requests broke the rules ({serverErrors} without a 4xx answer): "
            + string.Join("; ",
                failures.GroupBy(f => f.Signature).OrderByDescending(g => g.Count()).Take(15).Select(g => $"{g.Count()}× {Cut(g.Key, 200)}"))
            + ". The output has each with its request, answer and server log.");

        // The watch sees writes: the plausible requests among them create and change things.
        Assert.True(writesSeen > 0,
            "No successful request wrote anything: the row watch sees nothing, so it cannot show that refused requests write nothing.");
        Say($"Successful requests that wrote (seen by the row watch): {writesSeen}.");

        // A fuzz run that only meets the door (authentication, rate limits) or the router tries nothing: most requests
        // must reach an endpoint, and every kind must have been tried.
        var turnedAway = statuses.Where(s => s.Key is 401 or 403 or 429).Sum(s => s.Value);
        Assert.True(turnedAway < plan.Count / 10,
            $"{turnedAway} of {plan.Count} requests were turned away (401/403/429) before reaching an endpoint.");
        var floor = Math.Min(20, plan.Count / (stats.Count * 4));
        Assert.All(stats, s => Assert.True(s.Value.Tried >= floor, $"{s.Key} was tried only {s.Value.Tried} times."));
    }

    /// <summary>
    /// Every operation with every kind that applies to it once, then kinds drawn evenly (and an operation that takes
    /// each), all from one CsCheck PCG stream, so that a seed replays the same requests in the same order.
    /// </summary>
    static List<(ApiOperation Operation, FuzzKind Kind, ulong Seed)> Plan(ApiDescription api, ulong seed, int total)
    {
        var pcg = new PCG(1, seed);
        var kinds = Enum.GetValues<FuzzKind>();
        var takers = kinds.ToDictionary(k => k, k => api.Operations.Where(o => RequestFactory.KindsFor(o).Contains(k)).ToArray());
        var drawable = kinds.Where(k => takers[k].Length > 0).ToArray();
        var next = from kind in Gen.OneOf(drawable)
                   from operation in Gen.OneOf(takers[kind])
                   from caseSeed in Gen.ULong
                   select (operation, kind, caseSeed);

        var plan = api.Operations.SelectMany(o => RequestFactory.KindsFor(o).Select(k => (o, k, Gen.ULong.Generate(pcg, null!, out _)))).ToList();
        while (plan.Count < total) plan.Add(next.Generate(pcg, null!, out _));
        return plan;
    }

    async Task<HttpRequestMessage> MessageAsync(HttpClient client, FuzzRequest request, CancellationToken ct)
    {
        // A NUL in the path: Kestrel refuses the request line with a 400 before the service sees it; the in-memory server
        // cannot even build the request (PathString throws in the test host), so it counts as not sendable.
        if (Uri.UnescapeDataString(request.Url.Split('?')[0]).Contains('\0', StringComparison.Ordinal))
            throw new NotSendableException("NUL in the path");
        var message = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(request.Url, UriKind.Relative));
        if (request.Body is not null || request.ContentType is not null)
        {
            message.Content = new ByteArrayContent(request.Body ?? []);
            if (request.ContentType is not null) message.Content.Headers.TryAddWithoutValidation("Content-Type", request.ContentType);
        }
        foreach (var (name, value) in request.Headers)
        {
            if (name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase))
            {
                message.Content ??= new ByteArrayContent([]);
                message.Content.Headers.TryAddWithoutValidation(name, value);
            }
            else if (!message.Headers.TryAddWithoutValidation(name, value)) throw new NotSendableException($"header {name} refused by the client");
        }
        if (request.FreshETag != FreshETag.None && request.ETagSource is not null)
        {
            using var current = await client.SendAsync(Get(request.ETagSource), ct);
            if (current.Headers.ETag?.ToString() is { } etag)
            {
                message.Headers.TryAddWithoutValidation("If-Match", request.FreshETag switch
                {
                    FreshETag.Weak => "W/" + etag,
                    FreshETag.ExactThenGarbage => etag + ", garbage",
                    FreshETag.GarbageThenExact => "\"garbage\", " + etag,
                    _ => etag,
                });
            }
        }
        return message;
    }

    static async Task<Outcome> SendAsync(HttpClient client, HttpRequestMessage message, CancellationToken ct)
    {
        using var _ = message;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(RequestTimeout);
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var response = await client.SendAsync(message, HttpCompletionOption.ResponseContentRead, timeout.Token);
            var body = await response.Content.ReadAsByteArrayAsync(timeout.Token);
            return new Outcome((int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, body, null,
                Stopwatch.GetElapsedTime(started),
                OpenApi.DocumentedAnswers.HeaderNames(response));
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new Outcome(0, null, [], $"no answer within {RequestTimeout.TotalSeconds:0} s", Stopwatch.GetElapsedTime(started));
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            // With the in-memory server an exception that escapes the pipeline surfaces here: on a real server it is a 500 or a reset.
            return new Outcome(0, null, [], "exception escaped the pipeline: " + e, Stopwatch.GetElapsedTime(started));
        }
    }

    static HttpRequestMessage Get(string url)
    {
        var message = new HttpRequestMessage(HttpMethod.Get, new Uri(url, UriKind.Relative));
        message.Headers.Accept.ParseAdd("application/json");
        return message;
    }

    static async Task WaitUntilReadyAsync(HttpClient client, CancellationToken ct)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            using var response = await client.SendAsync(Get("/api/v1/rounds"), ct);
            if (response.StatusCode == HttpStatusCode.OK) return;
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30), $"The service is not ready: {(int)response.StatusCode}");
            await Task.Delay(200, ct);
        }
    }

    static string Report(ulong seed, int planned, Dictionary<FuzzKind, KindStats> stats, SortedDictionary<int, int> statuses,
        Dictionary<string, int> operations, ApiDescription api, List<Failure> failures, int unsendable, TimeSpan elapsed, TimeSpan watching,
            TimeSpan building)
    {
        var inv = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        var tried = stats.Values.Sum(s => s.Tried);
        text.AppendLine(inv,
            $"Hostile requests: {tried} sent in {elapsed.TotalSeconds:0.0} s ({tried / Math.Max(elapsed.TotalSeconds, 0.001):0} per second; " +
            $"{watching.TotalSeconds:0.0} s of it counting rows, {building.TotalSeconds:0.0} s generating), seed 0x{seed:X16}.");
        text.AppendLine(inv, $"{"kind",-24} {"tried",6} {"2xx",6} {"4xx",6} {"5xx",6} {"no answer",9} {"failed",6} {"seconds",8} {"gen s",6}");
        foreach (var (kind, s) in stats.Where(s => s.Value.Tried > 0))
            text.AppendLine(inv,
                $"{kind,-24} {s.Tried,6} {s.Success,6} {s.Refused,6} {s.ServerErrors,6} {s.NoAnswer,9} {s.Failed,6} {s.Time.TotalSeconds,8:0.0} " +
                $"{s.Generating.TotalSeconds,6:0.0}");
        text.AppendLine(inv,
            $"{"total",-24} {tried,6} {stats.Values.Sum(s => s.Success),6} {stats.Values.Sum(s => s.Refused),6} " +
            $"{stats.Values.Sum(s => s.ServerErrors),6} {stats.Values.Sum(s => s.NoAnswer),9} {failures.Count,6}");
        text.AppendLine(inv,
            $"5xx seen: {stats.Values.Sum(s => s.ServerErrors)} (must be 0); requests without an answer: {stats.Values.Sum(s => s.NoAnswer)}; not " +
            $"sendable by the client: {unsendable} of {planned}.");
        text.AppendLine("Statuses: " + string.Join(", ", statuses.Select(s => $"{s.Key}×{s.Value}")));
        text.AppendLine(inv,
            $"Operations covered: {operations.Count} of {api.Operations.Count}; fewest requests: " +
            $"{string.Join(", ", operations.OrderBy(o => o.Value).Take(3).Select(o => $"{o.Key} ({o.Value})"))}.");
        if (failures.Count == 0) return text.ToString();

        var groups = failures.GroupBy(f => f.Signature).OrderByDescending(g => g.Count()).ToList();
        text.AppendLine(inv, $"{failures.Count} failures in {groups.Count} groups (one example each):");
        foreach (var group in groups.Take(40))
        {
            var f = group.First();
            text.AppendLine(inv, $"--- {group.Count()}× {group.Key}");
            text.AppendLine(inv, $"    #{f.Index} case seed 0x{f.Request.Seed:X16}; hostile: {f.Request.Detail}");
            text.AppendLine(inv, $"    {f.Request.Method} {Cut(f.Request.Url, 300)}");
            foreach (var (name, value) in f.Request.Headers) text.AppendLine(inv, $"    {name}: {Cut(HostileValues.Show(value), 200)}");
            if (f.Request.FreshETag != FreshETag.None) text.AppendLine(inv,
                $"    If-Match: (current ETag of {f.Request.ETagSource}, {f.Request.FreshETag})");
            if (f.Request.ContentType is not null) text.AppendLine(inv, $"    Content-Type: {HostileValues.Show(f.Request.ContentType)}");
            if (f.Request.Body is { } body) text.AppendLine(inv, $"    body ({body.Length} bytes): {Cut(Printable(body), 400)}");
            text.AppendLine(inv, $"    answer {f.Outcome.Status} {f.Outcome.MediaType}: {Cut(f.Outcome.Error ?? f.Outcome.BodyText, 1500)}");
            text.AppendLine("    violations: " + string.Join("; ", f.Violations));
            foreach (var entry in f.ServerLog.Take(2)) text.AppendLine("    server log: " + Cut(entry, 4000)
                .Replace("\n", "\n      ", StringComparison.Ordinal));
        }
        return text.ToString();
    }

    /// <summary>One line per request for FUZZ_DUMP: what was sent and what came back (the problem's type and detail).</summary>
    static string Dumped(int index, FuzzRequest request, Outcome outcome, string? written)
    {
        JsonNode? problem = null;
        if (outcome.MediaType == "application/problem+json")
        {
            try
            {
                problem = JsonNode.Parse(outcome.Body);
            }
            catch (System.Text.Json.JsonException)
            {
            }
        }
        return new JsonObject
        {
            ["i"] = index, ["kind"] = request.Kind.ToString(), ["op"] = request.Operation.Name, ["hostile"] = request.Detail,
                ["url"] = Cut(request.Url, 200),
            ["status"] = outcome.Status, ["type"] = problem?["type"]?.ToString(), ["detail"] = problem?["detail"]?.ToString(),
            ["errors"] = problem?["errors"]?.ToJsonString(), ["wrote"] = written,
        }.ToJsonString();
    }

    static string Printable(byte[] body)
    {
        var text = Encoding.UTF8.GetString(body.AsSpan(0, Math.Min(body.Length, 600)));
        return HostileValues.Show(text.Length > 60 ? text[..60] : text)
            + (text.Length > 60 ? text[60..].Replace("\n", "\\n", StringComparison.Ordinal).Replace("\r", "\\r", StringComparison.Ordinal) : "");
    }

    static string Cut(string text, int max) => text.Length <= max ? text : text[..max] + $"… ({text.Length} chars)";

    static ulong Setting(string name, ulong fallback)
    {
        var value = Environment.GetEnvironmentVariable(name);
        if (string.IsNullOrWhiteSpace(value)) return fallback;
        return value.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.Parse(value.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)
            : ulong.Parse(value, CultureInfo.InvariantCulture);
    }

    sealed class NotSendableException(string reason) : Exception(reason);

    static void Say(string text)
    {
        TestContext.Current.TestOutputHelper?.WriteLine(text);
        Console.WriteLine(text);
    }
}
