using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.OpenApi;

/// <summary>
/// The OpenAPI document against the live answers, as an integrator generating a client from it would meet them: a
/// round's whole life, through every operation of the document, on the reference case. Every answer (successes and
/// the ordinary refusals) must be documented for its operation, with its media type, and its JSON must be valid
/// against the documented schema with no field the document does not name. The request bodies are the document's
/// own examples wherever the data allows, so the examples are checked too. The walk runs twice: on the in-memory
/// server under the fixed clock, and on the service as a real process behind Kestrel on today's date. The hostile
/// fuzz runs the same check on its answers.
/// </summary>
public sealed class ResponseConformanceTests(ResponseConformanceTests.App app) : IClassFixture<ResponseConformanceTests.App>
{
    /// <summary>The demo data, and webhooks allowed to the loopback address the walk subscribes (nothing listens there).</summary>
    public sealed class App(TestCluster cluster) : RectifyApp(cluster)
    {
        protected override bool LoadDemoData => true;

        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            foreach (var (key, value) in WebhookSettings) builder.UseSetting(key.Replace("__", ":", StringComparison.Ordinal), value);
        }
    }

    static readonly Dictionary<string, string> WebhookSettings = new()
    {
        ["Rectify__Webhooks__AllowedHosts__0"] = "127.0.0.1",
        ["Rectify__Webhooks__AllowedNetworks__0"] = "127.0.0.1/32",
    };

    const string Round = "HN-8-6-6";

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Every_operation_answers_as_the_document_says()
    {
        using var documentClient = app.Client();
        var recorder = new AnswerRecorder(new DocumentedAnswers(await documentClient.GetJsonAsync("/openapi/v1.json")));
        using var client = app.CreateDefaultClient(recorder);
        client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var anonymous = new HttpClient(recorder.Before(app.Server.CreateHandler())) { BaseAddress = client.BaseAddress };
        await WalkAsync(client, anonymous, recorder);
    }

    /// <summary>The same walk against the service as a real process behind Kestrel, on today's date, as an integrator meets it.</summary>
    [Fact(Timeout = 120_000)]
    public async Task Every_operation_answers_as_the_document_says_behind_kestrel()
    {
        var connectionString = await app.TestCluster.CreateDatabaseAsync();
        var key = await TestKeys.CreateAsync(connectionString, Ct);
        var settings = new Dictionary<string, string>(WebhookSettings)
        {
            ["ConnectionStrings__Rectify"] = connectionString,
            ["Database__LoadDemoData"] = "true",
        };
        await using var api = await ApiProcess.StartAsync(settings, Ct);
        using var plain = api.Client();
        var recorder = new AnswerRecorder(new DocumentedAnswers(await plain.GetJsonAsync("/openapi/v1.json")));
        using var client = new HttpClient(recorder.Before(new SocketsHttpHandler())) { BaseAddress = api.BaseAddress };
        client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var anonymous = new HttpClient(recorder.Before(new SocketsHttpHandler())) { BaseAddress = api.BaseAddress };
        await WalkAsync(client, anonymous, recorder);
    }

    /// <summary>A round's whole life through every operation, dated by the service's own today.</summary>
    static async Task WalkAsync(HttpClient client, HttpClient anonymous, AnswerRecorder recorder)
    {
        var document = await client.GetJsonAsync("/openapi/v1.json");
        JsonObject Example(string method, string path)
            => document["paths"]![path]![method]!["requestBody"]!["content"]!["application/json"]!["example"]!.DeepClone().AsObject();
        var today = DateOnly.Parse((await OkAsync(client, $"/api/v1/rounds/{Round}/dashboard"))["asOf"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
        string Day(int daysBefore) => today.AddDays(-daysBefore).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

        // Reading the reference case.
        await OkAsync(client, "/health/live");
        await OkAsync(client, "/health/ready");
        await OkAsync(client, "/health/replicas");
        await OkAsync(client, "/api/v1/units?limit=5");
        await OkAsync(client, "/api/v1/units/460000");
        await OkAsync(client, "/api/v1/rounds");
        await OkAsync(client, $"/api/v1/rounds/{Round}");
        var issues = await OkAsync(client, $"/api/v1/issues?round={Round}&limit=50");
        var demoIssue = issues["items"]![0]!["id"]!.GetValue<long>();
        await OkAsync(client, $"/api/v1/issues/{demoIssue}");
        var measures = await OkAsync(client, $"/api/v1/measures?round={Round}&limit=50");
        await OkAsync(client, $"/api/v1/measures/{measures["items"]![0]!["id"]!.GetValue<long>()}");
        var indicators = await OkAsync(client, "/api/v1/indicators?limit=200");
        var indicator = indicators["items"]!.AsArray().First(i => i!["code"]!.GetValue<string>() == "LOTTERY-SALES")!["code"]!.GetValue<string>();
        await OkAsync(client, $"/api/v1/indicators/{indicator}");
        await OkAsync(client, $"/api/v1/indicators/{indicator}/series?unit=460000&from=2024-01&to=2025-12");
        await OkAsync(client, $"/api/v1/data-values?indicator={indicator}");
        await OkAsync(client, "/api/v1/data-values/deletions");
        await OkAsync(client, "/api/v1/reporting/completeness?period=2025-05");
        await TextAsync(client, $"/api/v1/rounds/{Round}/report?period=2025-05&format=html", "text/html");
        await TextAsync(client, $"/api/v1/rounds/{Round}/report?period=2025-05&format=md", "text/markdown");
        await TextAsync(client, $"/api/v1/issues/export?round={Round}", "text/csv");
        await TextAsync(client, $"/api/v1/measures/export?round={Round}", "text/csv");
        await OkAsync(client, $"/api/v1/rounds/{Round}/warnings");
        await TextAsync(client, $"/api/v1/rounds/{Round}/warnings/export", "text/csv");
        await OkAsync(client, $"/api/v1/issues/{demoIssue}/warnings");
        await OkAsync(client, $"/api/v1/measures/{measures["items"]![0]!["id"]!.GetValue<long>()}/warnings");
        await TextAsync(client, $"/api/v1/data-values/export?indicator={indicator}", "text/csv");
        await TextAsync(client, "/api/v1/data-values/template?period=2025-05", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
        await OkAsync(client, "/api/v1/journal?limit=20");

        // A round of one's own, from the examples: create, read, update.
        var round = Example("post", "/api/v1/rounds");
        round["code"] = "R-CONFORMANCE";
        var roundKey = Guid.NewGuid().ToString();
        await SendAsync(client, HttpMethod.Post, "/api/v1/rounds", round, HttpStatusCode.Created, idempotencyKey: roundKey);
        await SendAsync(client, HttpMethod.Post, "/api/v1/rounds", round, HttpStatusCode.Created, idempotencyKey: roundKey); // replayed
        var roundUpdate = Example("put", "/api/v1/rounds/{code}");
        await SendAsync(client, HttpMethod.Put, "/api/v1/rounds/R-CONFORMANCE", roundUpdate, HttpStatusCode.OK, ifMatch: await ETagAsync(client, "/api/v1/rounds/R-CONFORMANCE"));

        // An issue and a measure through their whole life.
        var issue = Example("post", "/api/v1/issues");
        issue["round"] = "R-CONFORMANCE";
        var issueId = (await SendAsync(client, HttpMethod.Post, "/api/v1/issues", issue, HttpStatusCode.Created))["id"]!.GetValue<long>();
        var issueUpdate = Example("put", "/api/v1/issues/{id}");
        await SendAsync(client, HttpMethod.Put, $"/api/v1/issues/{issueId}", issueUpdate, HttpStatusCode.OK, ifMatch: await ETagAsync(client, $"/api/v1/issues/{issueId}"));
        var measure = Example("post", "/api/v1/measures");
        measure["issueId"] = issueId;
        var measureId = (await SendAsync(client, HttpMethod.Post, "/api/v1/measures", measure, HttpStatusCode.Created))["id"]!.GetValue<long>();
        var measureUpdate = Example("put", "/api/v1/measures/{id}");
        await SendAsync(client, HttpMethod.Put, $"/api/v1/measures/{measureId}", measureUpdate, HttpStatusCode.OK, ifMatch: await ETagAsync(client, $"/api/v1/measures/{measureId}"));
        // Due dates move through …/deadline only: a silent move in an update is refused, the move itself is listed.
        var silentMove = measureUpdate.DeepClone().AsObject();
        silentMove["dueDate"] = "2030-12-31";
        await SendAsync(client, HttpMethod.Put, $"/api/v1/measures/{measureId}", silentMove, HttpStatusCode.Conflict,
            ifMatch: await ETagAsync(client, $"/api/v1/measures/{measureId}"));
        var deadline = Example("post", "/api/v1/measures/{id}/deadline");
        await SendAsync(client, HttpMethod.Post, $"/api/v1/measures/{measureId}/deadline", deadline, HttpStatusCode.Created);
        await SendAsync(client, HttpMethod.Post, $"/api/v1/measures/{measureId}/deadline", deadline, HttpStatusCode.UnprocessableEntity); // nothing moves
        await OkAsync(client, $"/api/v1/measures/{measureId}/deadline-changes");
        await SendAsync(client, HttpMethod.Post, $"/api/v1/issues/{issueId}/deadline", Example("post", "/api/v1/issues/{id}/deadline"), HttpStatusCode.Created);
        await OkAsync(client, $"/api/v1/issues/{issueId}/deadline-changes");
        measureUpdate["dueDate"] = deadline["dueDate"]!.DeepClone();
        var progress = Example("post", "/api/v1/measures/{id}/progress");
        progress["reportedOn"] = Day(5);
        await SendAsync(client, HttpMethod.Post, $"/api/v1/measures/{measureId}/progress", progress, HttpStatusCode.Created);
        var evidenceId = (await SendAsync(client, HttpMethod.Post, $"/api/v1/measures/{measureId}/evidence", Example("post", "/api/v1/measures/{id}/evidence"),
            HttpStatusCode.Created))["id"]!.GetValue<long>();
        var file = $"/api/v1/measures/{measureId}/evidence/{evidenceId}/file";
        await EvidenceFileAsync(client, file);
        await SendAsync(client, HttpMethod.Post, $"/api/v1/issues/{issueId}/review", Example("post", "/api/v1/issues/{id}/review"), HttpStatusCode.OK);
        var submission = Example("post", "/api/v1/issues/{id}/sign-offs");
        submission["evidence"] = new JsonArray(new JsonObject { ["evidenceId"] = evidenceId });
        await SendAsync(client, HttpMethod.Post, $"/api/v1/issues/{issueId}/sign-offs", submission, HttpStatusCode.Conflict); // already pending_review
        var reviewerId = (await SendAsync(client, HttpMethod.Post, "/api/v1/clients", new { name = "conformance-reviewer", scopes = new[] { "read", "review" } },
            HttpStatusCode.Created))["id"]!.GetValue<long>();
        var reviewerKey = (await SendAsync(client, HttpMethod.Post, $"/api/v1/clients/{reviewerId}/keys", null, HttpStatusCode.Created))["key"]!.GetValue<string>();
        await SendAsync(anonymous, HttpMethod.Post, $"{file}/versions/1/decision", new { decision = "accepted", comment = "文件与措施一致。" },
            HttpStatusCode.OK, key: reviewerKey);
        var firstSignOff = (await SendAsync(client, HttpMethod.Get, $"/api/v1/issues/{issueId}/sign-offs", null, HttpStatusCode.OK)).AsArray()[0]!["id"]!.GetValue<long>();
        var changes = new JsonObject { ["decision"] = "request_changes", ["comment"] = "请补充佐证材料。" };
        // The client that submitted cannot decide: a reviewer of its own does (its key issued without a body).
        await SendAsync(client, HttpMethod.Post, $"/api/v1/issues/{issueId}/sign-offs/{firstSignOff}/decision", changes, HttpStatusCode.Forbidden);
        await SendAsync(anonymous, HttpMethod.Post, $"/api/v1/issues/{issueId}/sign-offs/{firstSignOff}/decision", changes, HttpStatusCode.OK, key: reviewerKey);
        var signOffId = (await SendAsync(client, HttpMethod.Post, $"/api/v1/issues/{issueId}/sign-offs", submission, HttpStatusCode.Created))["id"]!.GetValue<long>();
        var accept = Example("post", "/api/v1/issues/{id}/sign-offs/{signOffId}/decision");
        accept["watchUntil"] = today.AddDays(30).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        // The measure is still running and its evidence undecided: the accept is refused with the blockers named.
        await SendAsync(anonymous, HttpMethod.Post, $"/api/v1/issues/{issueId}/sign-offs/{signOffId}/decision", accept, HttpStatusCode.Conflict, key: reviewerKey);
        await SendAsync(client, HttpMethod.Post, $"/api/v1/measures/{measureId}/progress", new { reportedOn = Day(1), percent = 100 }, HttpStatusCode.Created);
        await SendAsync(anonymous, HttpMethod.Post, $"/api/v1/measures/{measureId}/evidence/{evidenceId}/decision",
            Example("post", "/api/v1/measures/{id}/evidence/{evidenceId}/decision"), HttpStatusCode.OK, key: reviewerKey);
        await SendAsync(anonymous, HttpMethod.Post, $"/api/v1/issues/{issueId}/sign-offs/{signOffId}/decision", accept, HttpStatusCode.OK, key: reviewerKey);
        // Closed and frozen: a change is refused until the review reopens it.
        await SendAsync(client, HttpMethod.Post, $"/api/v1/measures/{measureId}/progress", new { reportedOn = Day(1), percent = 100 }, HttpStatusCode.Conflict);
        await SendAsync(anonymous, HttpMethod.Post, $"/api/v1/issues/{issueId}/reopen", Example("post", "/api/v1/issues/{id}/reopen"), HttpStatusCode.OK,
            key: reviewerKey);
        measureUpdate["state"] = "planned"; // a done measure may be reopened, never planned again
        await SendAsync(client, HttpMethod.Put, $"/api/v1/measures/{measureId}", measureUpdate, HttpStatusCode.Conflict,
            ifMatch: await ETagAsync(client, $"/api/v1/measures/{measureId}"));

        // Indicators and their values.
        var created = Example("post", "/api/v1/indicators");
        created["code"] = "CONFORMANCE-SALES";
        created["issues"] = new JsonArray(issueId);
        created["measures"] = new JsonArray();
        await SendAsync(client, HttpMethod.Post, "/api/v1/indicators", created, HttpStatusCode.Created);
        var indicatorUpdate = Example("put", "/api/v1/indicators/{code}");
        indicatorUpdate["issues"] = new JsonArray(issueId);
        indicatorUpdate["measures"] = new JsonArray();
        await SendAsync(client, HttpMethod.Put, "/api/v1/indicators/CONFORMANCE-SALES", indicatorUpdate, HttpStatusCode.OK,
            ifMatch: await ETagAsync(client, "/api/v1/indicators/CONFORMANCE-SALES"));
        var values = new JsonArray(
            new JsonObject { ["indicator"] = "CONFORMANCE-SALES", ["unit"] = "460000", ["period"] = "2025-04", ["value"] = 0.81m },
            new JsonObject { ["indicator"] = "CONFORMANCE-SALES", ["unit"] = "460100", ["period"] = "2025-05", ["value"] = 0.2m, ["comment"] = "海口" });
        await SendAsync(client, HttpMethod.Post, "/api/v1/data-values/import", values, HttpStatusCode.OK);
        var rejected = new JsonArray(new JsonObject { ["indicator"] = "NO-SUCH-INDICATOR", ["unit"] = "460000", ["period"] = "2025-04", ["value"] = 1 });
        await SendAsync(client, HttpMethod.Post, "/api/v1/data-values/import", rejected, HttpStatusCode.UnprocessableEntity);
        var doomed = Example("post", "/api/v1/indicators");
        doomed["code"] = "CONFORMANCE-DOOMED";
        await SendAsync(client, HttpMethod.Post, "/api/v1/indicators", doomed, HttpStatusCode.Created);
        await SendAsync(client, HttpMethod.Delete, "/api/v1/indicators/CONFORMANCE-DOOMED", null, HttpStatusCode.NoContent,
            ifMatch: await ETagAsync(client, "/api/v1/indicators/CONFORMANCE-DOOMED"));

        // Monthly snapshots: push, read (and 304), publish, diff, export.
        var push = Example("put", "/api/v1/rounds/{round}/snapshots/{period}");
        push["progress"] = new JsonArray();
        push["values"] = new JsonArray(new JsonObject { ["indicator"] = "CONFORMANCE-SALES", ["unit"] = "460000", ["value"] = 0.83m });
        await SendAsync(client, HttpMethod.Put, "/api/v1/rounds/R-CONFORMANCE/snapshots/2025-04", push, HttpStatusCode.OK);
        await SendAsync(client, HttpMethod.Put, "/api/v1/rounds/R-CONFORMANCE/snapshots/2025-05", new { narrative = "5月进展" }, HttpStatusCode.OK);
        await OkAsync(client, "/api/v1/rounds/R-CONFORMANCE/snapshots");
        var tag = await ETagAsync(client, "/api/v1/rounds/R-CONFORMANCE/snapshots/2025-05");
        using (var notModified = new HttpRequestMessage(HttpMethod.Get, "/api/v1/rounds/R-CONFORMANCE/snapshots/2025-05"))
        {
            notModified.Headers.TryAddWithoutValidation("If-None-Match", tag);
            using var answer = await client.SendAsync(notModified, Ct);
            Assert.Equal(HttpStatusCode.NotModified, answer.StatusCode);
        }
        var publish = Example("post", "/api/v1/rounds/{round}/snapshots/{period}/publish");
        await SendAsync(client, HttpMethod.Post, "/api/v1/rounds/R-CONFORMANCE/snapshots/2025-05/publish", publish, HttpStatusCode.Conflict); // April first
        await SendAsync(client, HttpMethod.Post, "/api/v1/rounds/R-CONFORMANCE/snapshots/2025-04/publish", publish, HttpStatusCode.OK);
        await SendAsync(client, HttpMethod.Post, "/api/v1/rounds/R-CONFORMANCE/snapshots/2025-05/publish", publish, HttpStatusCode.OK);
        await OkAsync(client, "/api/v1/rounds/R-CONFORMANCE/snapshots/2025-05?revision=1");
        await OkAsync(client, "/api/v1/rounds/R-CONFORMANCE/snapshots/2025-05/diff?against=2025-04");
        await TextAsync(client, "/api/v1/rounds/R-CONFORMANCE/snapshots/2025-05/export", "text/csv");

        // Calling systems and their keys.
        await OkAsync(client, "/api/v1/clients");
        var newClient = Example("post", "/api/v1/clients");
        var clientId = (await SendAsync(client, HttpMethod.Post, "/api/v1/clients", newClient, HttpStatusCode.Created))["id"]!.GetValue<long>();
        await OkAsync(client, $"/api/v1/clients/{clientId}");
        var issued = await SendAsync(client, HttpMethod.Post, $"/api/v1/clients/{clientId}/keys", Example("post", "/api/v1/clients/{id}/keys"), HttpStatusCode.Created);
        var prefix = issued["prefix"]!.GetValue<string>();
        using (var withoutWrite = new HttpRequestMessage(HttpMethod.Post, "/api/v1/rounds") { Content = System.Net.Http.Json.JsonContent.Create(round) })
        {
            withoutWrite.Headers.Authorization = new AuthenticationHeaderValue("Bearer", issued["key"]!.GetValue<string>()); // read and push only
            using var forbidden = await anonymous.SendAsync(withoutWrite, Ct);
            Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        }
        // A subscriber (nothing listens on the discard port), so that revoking the key below is an event to deliver.
        var subscription = await SendAsync(client, HttpMethod.Post, "/api/v1/webhooks",
            new { url = "http://127.0.0.1:9/hook", eventTypes = new[] { "client-key.revoked" } }, HttpStatusCode.Created);
        var subscriptionId = subscription["subscription"]!["id"]!.GetValue<long>();
        await SendAsync(client, HttpMethod.Delete, $"/api/v1/clients/{clientId}/keys/{prefix}", null, HttpStatusCode.NoContent);
        await SendAsync(client, HttpMethod.Post, $"/api/v1/clients/{clientId}/revoke", null, HttpStatusCode.OK);

        // What other systems follow: the change feed, and the webhook subscription's life.
        await OkAsync(client, "/api/v1/changes?limit=5");
        await OkAsync(client, "/api/v1/webhooks");
        await OkAsync(client, $"/api/v1/webhooks/{subscriptionId}");
        await SendAsync(client, HttpMethod.Post, $"/api/v1/webhooks/{subscriptionId}/resume", null, HttpStatusCode.OK);
        var deliveries = (await OkAsync(client, $"/api/v1/webhooks/{subscriptionId}/deliveries")).AsArray();
        Assert.NotEmpty(deliveries);
        await SendAsync(client, HttpMethod.Post, $"/api/v1/webhooks/{subscriptionId}/deliveries/{deliveries[0]!["id"]!.GetValue<long>()}/redeliver",
            null, HttpStatusCode.OK);
        await SendAsync(client, HttpMethod.Delete, $"/api/v1/webhooks/{subscriptionId}", null, HttpStatusCode.NoContent);

        // Ordinary refusals: not found, invalid, not JSON, stale, missing If-Match, without a key.
        using (var notJson = await client.PostAsync("/api/v1/rounds", new StringContent("code=R-2", System.Text.Encoding.UTF8, "text/plain"), Ct))
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, notJson.StatusCode);
        await SendAsync(client, HttpMethod.Get, "/api/v1/issues/999999", null, HttpStatusCode.NotFound);
        await SendAsync(client, HttpMethod.Get, "/api/v1/issues?limit=0", null, HttpStatusCode.BadRequest);
        using (var csv = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/issues?round={Round}"))
        {
            csv.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/csv"));
            using var notAcceptable = await client.SendAsync(csv, Ct);
            Assert.Equal(HttpStatusCode.NotAcceptable, notAcceptable.StatusCode); // the CSV is the export's
        }
        await SendAsync(client, HttpMethod.Put, "/api/v1/rounds/R-CONFORMANCE", roundUpdate, HttpStatusCode.PreconditionFailed, ifMatch: "\"stale\"");
        await SendAsync(client, HttpMethod.Put, "/api/v1/rounds/R-CONFORMANCE", roundUpdate, (HttpStatusCode)428);
        using (var refused = await anonymous.GetAsync($"/api/v1/rounds/{Round}", Ct))
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);

        Assert.True(!recorder.Violations.Any(), "Answers the document does not describe:\n" + string.Join("\n", recorder.Violations));
        Assert.True(!recorder.NeverSucceeded.Any(), "Operations never seen to succeed: " + string.Join(", ", recorder.NeverSucceeded));
    }

    /// <summary>An evidence file: uploaded (and refused for its bytes), listed, downloaded whole, in a range, not modified and out of range.</summary>
    static async Task EvidenceFileAsync(HttpClient client, string file)
    {
        var pdf = EvidenceFiles.EvidenceFileKit.PdfBytes(padding: 2000);
        using (var upload = new ByteArrayContent(pdf))
        {
            upload.Headers.ContentType = new MediaTypeHeaderValue("application/pdf");
            using var created = await client.PutAsync($"{file}?fileName=海南省公墓管理办法.pdf", upload, Ct);
            await created.ShouldBeAsync(HttpStatusCode.Created);
        }
        using (var png = new ByteArrayContent(EvidenceFiles.EvidenceFileKit.PngBytes()))
        {
            png.Headers.ContentType = new MediaTypeHeaderValue("application/pdf");
            using var mismatch = await client.PutAsync(file, png, Ct);
            await mismatch.ShouldBeAsync(HttpStatusCode.UnprocessableEntity);
        }
        await OkAsync(client, $"{file}/versions");
        using (var whole = await client.GetAsync($"{file}/versions/1", Ct)) Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        using var latest = await client.GetAsync(file, Ct);
        Assert.Equal(HttpStatusCode.OK, latest.StatusCode);
        foreach (var (range, ifNoneMatch, status) in new (string?, string?, HttpStatusCode)[]
        {
            ("bytes=0-99", null, HttpStatusCode.PartialContent), (null, latest.ETag(), HttpStatusCode.NotModified),
            ($"bytes={pdf.Length + 1}-", null, HttpStatusCode.RequestedRangeNotSatisfiable),
        })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, file);
            if (range is not null) request.Headers.TryAddWithoutValidation("Range", range);
            if (ifNoneMatch is not null) request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
            using var answer = await client.SendAsync(request, Ct);
            Assert.Equal(status, answer.StatusCode);
        }
    }

    static async Task<JsonNode> OkAsync(HttpClient client, string url) => await SendAsync(client, HttpMethod.Get, url, null, HttpStatusCode.OK);

    static async Task TextAsync(HttpClient client, string url, string mediaType)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(mediaType));
        using var response = await client.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
    }

    static async Task<string> ETagAsync(HttpClient client, string url)
    {
        using var response = await client.GetAsync(url, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response.ETag();
    }

    static async Task<JsonNode> SendAsync(HttpClient client, HttpMethod method, string url, object? body, HttpStatusCode expected, string? ifMatch = null,
        string? idempotencyKey = null, string? key = null)
    {
        using var request = new HttpRequestMessage(method, url);
        if (key is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        if (body is not null) request.Content = System.Net.Http.Json.JsonContent.Create(body, options: Http.Json);
        if (ifMatch is not null) request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        using var response = await client.SendAsync(request, Ct);
        return await response.ShouldBeAsync(expected);
    }
}

/// <summary>Checks every answer that passes through it against the document, and remembers which operations succeeded.</summary>
public sealed class AnswerRecorder : DelegatingHandler
{
    readonly DocumentedAnswers _answers;
    readonly ConcurrentQueue<string> _violations;
    readonly ConcurrentQueue<string> _succeeded;

    public AnswerRecorder(DocumentedAnswers answers) : this(answers, new(), new())
    {
    }

    AnswerRecorder(DocumentedAnswers answers, ConcurrentQueue<string> violations, ConcurrentQueue<string> succeeded)
        => (_answers, _violations, _succeeded) = (answers, violations, succeeded);

    public IEnumerable<string> Violations => _violations;

    /// <summary>The operations of the document ("GET /api/v1/rounds") not yet seen to succeed.</summary>
    public IEnumerable<string> NeverSucceeded => _answers.Operations().Except(_succeeded);

    /// <summary>Another recorder into the same records, in front of the given handler (a client without the suite's key).</summary>
    public AnswerRecorder Before(HttpMessageHandler inner) => new(_answers, _violations, _succeeded) { InnerHandler = inner };

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken); // buffered: the caller reads it again
        var path = request.RequestUri!.IsAbsoluteUri ? request.RequestUri.PathAndQuery : request.RequestUri.OriginalString;
        var method = request.Method.Method;
        foreach (var violation in _answers.Check(method, path, (int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, body,
            DocumentedAnswers.HeaderNames(response)))
            _violations.Enqueue($"{method} {path} → {(int)response.StatusCode}: {violation}");
        if ((int)response.StatusCode is >= 200 and < 300 && _answers.Template(path) is { } template)
            _succeeded.Enqueue($"{method} {template}");
        return response;
    }
}
