using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Rectify.Push;

namespace Rectify.Api.Tests.Push;

/// <summary>
/// The push client against a stub server: what it sends, when it retries and how long it waits, and what each
/// answer means for the job's exit code.
/// </summary>
public sealed class PushClientTests : IDisposable
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    readonly PushFiles _files = new();

    public void Dispose() => _files.Dispose();

    /// <summary>Options with back-off of a millisecond or so, so that retries do not slow the tests down.</summary>
    static PushOptions Options(string path, bool atomic = true) => new()
    {
        Atomic = atomic,
        BaseUrl = new Uri("http://127.0.0.1:8080"),
        FilePath = path,
        Format = path.EndsWith(".json", StringComparison.Ordinal) ? ImportFormat.Json : ImportFormat.Csv,
        RetryBaseDelay = TimeSpan.FromMilliseconds(1),
        RetryMaxDelay = TimeSpan.FromMilliseconds(5),
        Retries = 5,
    };

    static async Task<PushResult> PushAsync(StubServer server, PushOptions options, TimeProvider? time = null, TextWriter? log = null)
    {
        using var http = new HttpClient(server) { Timeout = Timeout.InfiniteTimeSpan };
        return await new PushClient(http, options, time, log).PushAsync(Ct);
    }

    /// <summary>Moves the fake clock on until the push ends, so that its waits pass in a few milliseconds.</summary>
    static async Task<PushResult> RunOnClockAsync(Task<PushResult> push, FakeTimeProvider clock)
    {
        for (var step = 0; !push.IsCompleted && step < 10_000; step++)
        {
            await Task.Delay(1, Ct);
            clock.Advance(TimeSpan.FromMilliseconds(250));
        }
        return await push;
    }

    static string Report(PushResult result, PushOptions options)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        PushReport.Write(result, options, stdout, stderr);
        return stdout + "\n" + stderr;
    }

    [Fact]
    public async Task A_503_is_retried_and_the_push_then_succeeds()
    {
        var path = _files.Write("values.csv", PushFiles.Csv);
        var server = new StubServer(StubServer.Status(HttpStatusCode.ServiceUnavailable), StubServer.Summary(StubServer.ImportSummary()));
        using var log = new StringWriter();

        var result = await PushAsync(server, Options(path), log: log);

        Assert.Equal(PushOutcome.Accepted, result.Outcome);
        Assert.Equal(ExitCodes.Success, result.ExitCode);
        Assert.Equal(2, server.Requests.Count);
        Assert.Equal(2, result.Attempts);
        Assert.Contains("503", Assert.Single(result.Retries).Reason);
        Assert.Contains("attempt 1 of 6 failed (503", log.ToString());
        // Every attempt re-streams the whole file under the same key: the retry is a replay, not a second push.
        var bytes = await File.ReadAllBytesAsync(path, Ct);
        Assert.All(server.Requests, r => Assert.Equal(bytes, r.Body));
        Assert.Equal(server.Requests[0].Header("Idempotency-Key"), server.Requests[1].Header("Idempotency-Key"));
    }

    [Theory]
    [InlineData(HttpStatusCode.RequestTimeout)]
    [InlineData(HttpStatusCode.TooManyRequests)]
    [InlineData(HttpStatusCode.BadGateway)]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    [InlineData(HttpStatusCode.GatewayTimeout)]
    public async Task Transient_statuses_are_retried(HttpStatusCode status)
    {
        var path = _files.Write("values.csv", PushFiles.Csv);
        var server = new StubServer(StubServer.Status(status), StubServer.Summary(StubServer.ImportSummary()));

        var result = await PushAsync(server, Options(path));

        Assert.Equal(ExitCodes.Success, result.ExitCode);
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task A_refused_connection_is_retried()
    {
        var path = _files.Write("values.csv", PushFiles.Csv);
        var server = new StubServer(
            StubServer.Throw(new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused (127.0.0.1:8080)")),
            StubServer.Summary(StubServer.ImportSummary()));

        var result = await PushAsync(server, Options(path));

        Assert.Equal(ExitCodes.Success, result.ExitCode);
        Assert.Equal(2, server.Requests.Count);
        Assert.Contains("Connection refused", Assert.Single(result.Retries).Reason);
    }

    [Fact]
    public async Task An_attempt_without_an_answer_in_time_is_retried()
    {
        var path = _files.Write("values.csv", PushFiles.Csv);
        var server = new StubServer(StubServer.Hang, StubServer.Summary(StubServer.ImportSummary()));

        var result = await PushAsync(server, new PushOptions
        {
            BaseUrl = new Uri("http://127.0.0.1:8080"),
            FilePath = path,
            Format = ImportFormat.Csv,
            AttemptTimeout = TimeSpan.FromMilliseconds(200),
            RetryBaseDelay = TimeSpan.FromMilliseconds(1),
        });

        Assert.Equal(ExitCodes.Success, result.ExitCode);
        Assert.Equal(2, server.Requests.Count);
        Assert.Contains("no answer within", Assert.Single(result.Retries).Reason);
    }

    [Fact]
    public async Task A_429_waits_the_seconds_its_Retry_After_names()
    {
        var path = _files.Write("values.csv", PushFiles.Csv);
        var clock = new FakeTimeProvider(new DateTimeOffset(2025, 11, 2, 1, 5, 0, TimeSpan.Zero));
        var server = new StubServer(clock,
            StubServer.Status(HttpStatusCode.TooManyRequests, new RetryConditionHeaderValue(TimeSpan.FromSeconds(7))),
            StubServer.Summary(StubServer.ImportSummary()));

        var result = await RunOnClockAsync(PushAsync(server, Options(path), clock), clock);

        Assert.Equal(ExitCodes.Success, result.ExitCode);
        Assert.Equal(TimeSpan.FromSeconds(7), Assert.Single(result.Retries).Delay);
        Assert.True(server.Requests[1].At - server.Requests[0].At >= TimeSpan.FromSeconds(7),
            $"retried after {server.Requests[1].At - server.Requests[0].At}");
    }

    [Fact]
    public async Task A_503_waits_until_the_date_its_Retry_After_names()
    {
        var path = _files.Write("values.csv", PushFiles.Csv);
        var clock = new FakeTimeProvider(new DateTimeOffset(2025, 11, 2, 1, 5, 0, TimeSpan.Zero));
        var until = clock.GetUtcNow().AddSeconds(12);
        var server = new StubServer(clock,
            StubServer.Status(HttpStatusCode.ServiceUnavailable, new RetryConditionHeaderValue(until)),
            StubServer.Summary(StubServer.ImportSummary()));

        var result = await RunOnClockAsync(PushAsync(server, Options(path), clock), clock);

        Assert.Equal(ExitCodes.Success, result.ExitCode);
        Assert.True(server.Requests[1].At >= until, $"retried at {server.Requests[1].At}, before {until}");
    }

    [Fact]
    public async Task A_Retry_After_longer_than_a_job_should_sleep_is_not_waited_for()
    {
        var path = _files.Write("values.csv", PushFiles.Csv);
        var server = new StubServer(StubServer.Status(HttpStatusCode.ServiceUnavailable, new RetryConditionHeaderValue(TimeSpan.FromHours(2))));

        var result = await PushAsync(server, Options(path));

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.Single(server.Requests);
        Assert.Contains("asked to wait 7200 s", result.Message);
    }

    [Fact]
    public async Task Retries_stop_after_the_configured_number()
    {
        var path = _files.Write("values.csv", PushFiles.Csv);
        var server = new StubServer(StubServer.Status(HttpStatusCode.ServiceUnavailable));

        var result = await PushAsync(server, new PushOptions
        {
            BaseUrl = new Uri("http://127.0.0.1:8080"),
            FilePath = path,
            Format = ImportFormat.Csv,
            Retries = 2,
            RetryBaseDelay = TimeSpan.FromMilliseconds(1),
        });

        Assert.Equal(PushOutcome.Failed, result.Outcome);
        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.Equal(3, server.Requests.Count);
        Assert.Equal("the server answered 503 Service Unavailable after 3 attempts", result.Message);
    }

    [Fact]
    public async Task A_400_is_not_retried_and_its_problem_is_reported()
    {
        var path = _files.Write("values.csv", PushFiles.Csv);
        var server = new StubServer(StubServer.Problem(HttpStatusCode.BadRequest, new
        {
            type = "urn:rectify:problem:validation",
            title = "Invalid request",
            status = 400,
            detail = "See errors for the fields to correct.",
            errors = new Dictionary<string, string[]> { ["strategy"] = ["strategy must be upsert, create or delete."] },
        }));

        var result = await PushAsync(server, Options(path));

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.Single(server.Requests);
        Assert.Equal(400, result.StatusCode);
        var report = Report(result, Options(path));
        Assert.Contains("push of values.csv failed: the server answered 400 Bad Request", report);
        Assert.Contains("Invalid request: See errors for the fields to correct.", report);
        Assert.Contains("strategy: strategy must be upsert, create or delete.", report);
    }

    [Fact]
    public async Task Row_errors_in_another_problem_read_like_rejected_rows()
    {
        var path = _files.Write("values.csv", PushFiles.Csv);
        var server = new StubServer(StubServer.Problem(HttpStatusCode.BadRequest, new
        {
            type = "urn:rectify:problem:malformed-import",
            title = "Malformed file",
            status = 400,
            errors = new object[] { new { row = 1, field = "header", message = "expected indicator,unit,period,value,comment" } },
        }));

        var report = Report(await PushAsync(server, Options(path)), Options(path));

        Assert.Contains("Malformed file", report);
        Assert.Contains("  row 1 header: expected indicator,unit,period,value,comment", report);
    }

    [Theory]
    [InlineData(HttpStatusCode.Unauthorized)]
    [InlineData(HttpStatusCode.Forbidden)]
    [InlineData(HttpStatusCode.NotFound)]
    [InlineData(HttpStatusCode.Conflict)]
    [InlineData(HttpStatusCode.RequestEntityTooLarge)]
    [InlineData(HttpStatusCode.UnprocessableEntity)]
    [InlineData(HttpStatusCode.InternalServerError)]
    public async Task Other_failures_are_not_retried(HttpStatusCode status)
    {
        var path = _files.Write("values.csv", PushFiles.Csv);
        var server = new StubServer(StubServer.Problem(status, new { type = "urn:rectify:problem:other", title = "No", status = (int)status }));

        var result = await PushAsync(server, Options(path));

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task A_refused_atomic_push_exits_1_and_lists_the_rejected_rows()
    {
        var path = _files.Write("values.csv", PushFiles.Csv);
        var server = new StubServer(StubServer.Problem(HttpStatusCode.UnprocessableEntity, StubServer.ImportRejected(
            new { row = 3, field = "unit", message = "unknown unit 469999" },
            new { row = 4, field = "value", message = "not a number: 'abc'" },
            new { row = 5, field = "unit", message = "Row 5: Unknown unit '469998'." },
            new { row = 6, field = "unit", message = "第6行：未知单位“469997”。" })));

        var result = await PushAsync(server, Options(path));

        Assert.Equal(PushOutcome.Refused, result.Outcome);
        Assert.Equal(ExitCodes.RowsRejected, result.ExitCode);
        Assert.Single(server.Requests);
        var report = Report(result, Options(path));
        Assert.Contains("values.csv: refused, rows were rejected (upsert, atomic)", report);
        Assert.Contains("rejected           4", report);
        Assert.Contains("row 3 unit: unknown unit 469999", report);
        Assert.Contains("row 4 value: not a number: 'abc'", report);
        Assert.Contains("row 5 unit: Unknown unit '469998'.", report); // the server's row prefix is not repeated
        Assert.Contains("row 6 unit: 未知单位“469997”。", report);
        Assert.Contains("nothing was written", report);
    }

    [Fact]
    public async Task A_non_atomic_push_with_rejected_rows_exits_1()
    {
        var path = _files.Write("values.csv", PushFiles.Csv);
        var server = new StubServer(StubServer.Summary(StubServer.ImportSummary(inserted: 2, atomic: false,
            errors: [new { row = 2, field = "period", message = "2025-13 is not a month" }])));

        var result = await PushAsync(server, Options(path, atomic: false));

        Assert.Equal(PushOutcome.RowsRejected, result.Outcome);
        Assert.Equal(ExitCodes.RowsRejected, result.ExitCode);
        Assert.Contains("atomic=false", server.Requests[0].Uri.Query);
        var report = Report(result, Options(path, atomic: false));
        Assert.Contains("applied, except the rejected rows (upsert, non-atomic)", report);
        Assert.Contains("row 2 period: 2025-13 is not a month", report);
        Assert.Contains("1 row(s) of values.csv rejected", report);
    }

    [Fact]
    public async Task The_summary_prints_every_count_and_says_when_it_was_a_replay()
    {
        var path = _files.Write("values.csv", PushFiles.Csv);
        var server = new StubServer(StubServer.Summary(
            StubServer.ImportSummary(received: 120, inserted: 100, updated: 15, unchanged: 4, deleted: 1), replayed: true));

        var result = await PushAsync(server, Options(path));

        Assert.Equal(ExitCodes.Success, result.ExitCode);
        Assert.True(result.Replayed);
        var report = Report(result, Options(path));
        Assert.Contains("values.csv: applied (upsert, atomic)", report);
        Assert.Contains("replayed:", report);
        Assert.Contains("received         120", report);
        Assert.Contains("inserted         100", report);
        Assert.Contains("updated           15", report);
        Assert.Contains("unchanged          4", report);
        Assert.Contains("deleted            1", report);
        Assert.Contains("rejected           0", report);
        Assert.Contains($"import id: {StubServer.ImportId}", report);
        Assert.Contains($"idempotency key: {result.IdempotencyKey}", report);
    }

    [Fact]
    public async Task A_file_without_rows_is_accepted_with_a_warning()
    {
        var path = _files.Write("values.csv", "indicator,unit,period,value,comment\n");
        var server = new StubServer(StubServer.Summary(StubServer.ImportSummary(received: 0, inserted: 0, applied: false)));

        var result = await PushAsync(server, Options(path));

        Assert.Equal(ExitCodes.Success, result.ExitCode);
        var report = Report(result, Options(path));
        Assert.Contains("values.csv: nothing to apply (upsert, atomic)", report);
        Assert.Contains("warning: values.csv holds no rows", report);
    }

    [Fact]
    public async Task Only_the_first_rejected_rows_are_listed()
    {
        var path = _files.Write("values.csv", PushFiles.Csv);
        var errors = Enumerable.Range(2, 30).Select(row => (object)new { row, field = "unit", message = "unknown unit" }).ToArray();
        var server = new StubServer(StubServer.Problem(HttpStatusCode.UnprocessableEntity, StubServer.ImportRejected(errors)));

        var report = Report(await PushAsync(server, Options(path)), Options(path));

        Assert.Contains("rejected rows (first 20 of 30 listed):", report);
        Assert.Contains("row 21 unit: unknown unit", report);
        Assert.DoesNotContain("row 22 unit", report);
    }

    [Fact]
    public async Task Text_from_the_server_cannot_drive_the_terminal()
    {
        var path = _files.Write("values.csv", PushFiles.Csv);
        var server = new StubServer(StubServer.Problem(HttpStatusCode.UnprocessableEntity, StubServer.ImportRejected(
            new { row = 3, field = "unit", message = "bad\u001b[2J\nrectify-push: all good" })));

        var report = Report(await PushAsync(server, Options(path)), Options(path));

        Assert.DoesNotContain('\u001b', report);
        Assert.Contains("row 3 unit: bad [2J rectify-push: all good", report);
    }

    [Fact]
    public async Task A_dry_run_exits_0_when_every_row_would_be_accepted_and_sends_no_key()
    {
        var path = _files.Write("values.csv", PushFiles.Csv);
        var server = new StubServer(StubServer.Summary(StubServer.ImportSummary(applied: false, dryRun: true)));
        var options = new PushOptions { BaseUrl = new Uri("http://127.0.0.1:8080"), FilePath = path, Format = ImportFormat.Csv, DryRun = true };

        var result = await PushAsync(server, options);

        Assert.Equal(ExitCodes.Success, result.ExitCode);
        Assert.Contains("dryRun=true", server.Requests[0].Uri.Query);
        // A second dry run after the reference data was fixed must validate again, not replay the first findings.
        Assert.Null(server.Requests[0].Header("Idempotency-Key"));
        Assert.Contains("dry run, every row would be accepted", Report(result, options));
    }

    [Fact]
    public async Task An_answer_that_did_not_apply_a_real_push_is_a_failure()
    {
        var path = _files.Write("values.csv", PushFiles.Csv);
        var server = new StubServer(StubServer.Summary(StubServer.ImportSummary(applied: false)));

        var result = await PushAsync(server, Options(path));

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
    }

    [Fact]
    public async Task A_200_without_a_summary_is_a_failure()
    {
        var path = _files.Write("values.csv", PushFiles.Csv);
        var server = new StubServer((_, _) => Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK)
        {
            Content = new StringContent("<html>Portal login</html>", Encoding.UTF8, "text/html"),
        }));

        var result = await PushAsync(server, Options(path));

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.Contains("without an import summary", result.Message);
    }

    [Fact]
    public async Task A_redirect_is_not_followed()
    {
        var path = _files.Write("values.csv", PushFiles.Csv);
        var server = new StubServer((_, _) =>
        {
            var response = new HttpResponseMessage(HttpStatusCode.PermanentRedirect);
            response.Headers.Location = new Uri("https://rectify.example.gov.cn/api/v1/data-values/import");
            return Task.FromResult(response);
        });

        var result = await PushAsync(server, Options(path));

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.Single(server.Requests);
        Assert.Contains("pass that address as --url", result.Message);
    }

    [Fact]
    public async Task The_body_is_the_file_as_it_is_with_its_content_type()
    {
        // Large enough to span many buffers, so that a short or reordered copy would show.
        var bytes = Encoding.UTF8.GetBytes("indicator,unit,period,value,comment\n"
            + string.Concat(Enumerable.Range(0, 60_000).Select(i => $"MZ.{i % 97},4600{i % 10}0,2025-10,{i},第{i}行\n")));
        var csv = _files.Write("values.csv", bytes);
        var json = _files.Write("values.json", """[{"indicator":"MZ.WARNINGS","unit":"460100","period":"2025-10","value":77000}]""");
        var server = new StubServer(StubServer.Summary(StubServer.ImportSummary()));

        await PushAsync(server, Options(csv));
        await PushAsync(server, Options(json));

        var sentCsv = server.Requests[0];
        Assert.Equal(HttpMethod.Post, sentCsv.Method);
        Assert.Equal("/api/v1/data-values/import", sentCsv.Uri.AbsolutePath);
        Assert.Equal("?strategy=upsert&atomic=true&dryRun=false", sentCsv.Uri.Query);
        Assert.Equal("text/csv; charset=utf-8", sentCsv.ContentType);
        Assert.Equal(bytes.LongLength, sentCsv.ContentLength);
        Assert.Equal(bytes, sentCsv.Body);

        var sentJson = server.Requests[1];
        Assert.Equal("application/json", sentJson.ContentType);
        Assert.Equal(await File.ReadAllBytesAsync(json, Ct), sentJson.Body);
    }

    [Fact]
    public async Task The_options_reach_the_query_and_a_path_prefix_of_the_url_is_kept()
    {
        var path = _files.Write("values.csv", PushFiles.Csv);
        var server = new StubServer(StubServer.Summary(StubServer.ImportSummary(deleted: 3, inserted: 0)));

        await PushAsync(server, new PushOptions
        {
            BaseUrl = new Uri("https://gateway.example.gov.cn/rectify/"),
            FilePath = path,
            Format = ImportFormat.Csv,
            Strategy = ImportStrategy.Delete,
            Atomic = false,
            RevisionReason = "更正 2025-10 数据 & 口径",
        });

        var uri = server.Requests[0].Uri;
        Assert.Equal("https://gateway.example.gov.cn/rectify/api/v1/data-values/import", uri.GetLeftPart(UriPartial.Path));
        Assert.StartsWith("?strategy=delete&atomic=false&dryRun=false&revisionReason=", uri.Query);
        Assert.Equal("更正 2025-10 数据 & 口径", Uri.UnescapeDataString(uri.Query.Split("revisionReason=")[1]));
    }

    [Fact]
    public async Task The_same_file_gives_the_same_key_and_any_change_another()
    {
        var path = _files.Write("values.csv", PushFiles.Csv);
        var server = new StubServer(StubServer.Summary(StubServer.ImportSummary()));

        await PushAsync(server, Options(path));
        await PushAsync(server, Options(path));
        var copy = _files.Write("copy-of-values.csv", PushFiles.Csv);
        await PushAsync(server, Options(copy));
        _files.Write("values.csv", PushFiles.Csv.Replace("186000", "186001", StringComparison.Ordinal));
        await PushAsync(server, Options(path));
        var original = _files.Write("values.csv", PushFiles.Csv);
        await PushAsync(server,
            new PushOptions { BaseUrl = new Uri("http://127.0.0.1:8080"), FilePath = original, Format = ImportFormat.Csv,
            Strategy = ImportStrategy.Create });
        await PushAsync(server,
            new PushOptions { BaseUrl = new Uri("http://127.0.0.1:8080"), FilePath = original, Format = ImportFormat.Csv, RevisionReason = "更正" });

        var keys = server.Requests.Select(r => r.Header("Idempotency-Key")!).ToList();
        Assert.All(keys, key => Assert.Matches("^[0-9a-f]{64}$", key));
        Assert.Equal(keys[0], keys[1]);     // the same file pushed again: a replay
        Assert.Equal(keys[0], keys[2]);     // the same content under another name is the same push
        Assert.NotEqual(keys[0], keys[3]);  // one changed digit
        Assert.NotEqual(keys[0], keys[4]);  // another strategy
        Assert.NotEqual(keys[0], keys[5]);  // a revision reason
        Assert.Equal(6, server.Requests.Count);
    }

    [Fact]
    public async Task A_file_changed_after_its_key_was_computed_is_not_sent_again_under_that_key()
    {
        var path = _files.Write("values.csv", PushFiles.Csv);
        var server = new StubServer(
            StubServer.Then(() => File.AppendAllText(path, "MZ.LATE,460000,2025-10,1,\n"), StubServer.Status(HttpStatusCode.ServiceUnavailable)),
            StubServer.Summary(StubServer.ImportSummary()));

        var result = await PushAsync(server, Options(path));

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.Single(server.Requests);
        Assert.Contains("values.csv changed after its idempotency key was computed", result.Message);
    }

    [Fact]
    public async Task Cancelling_the_job_ends_the_push_as_a_failure()
    {
        var path = _files.Write("values.csv", PushFiles.Csv);
        var server = new StubServer(StubServer.Hang);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        using var http = new HttpClient(server);
        var push = new PushClient(http, Options(path)).PushAsync(stop.Token);

        stop.CancelAfter(TimeSpan.FromMilliseconds(100));
        var result = await push;

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.Contains("cancelled", result.Message);
    }
}
