using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Tests.Access;
using Rectify.Api.Tests.Infrastructure;
using Rectify.Api.Tests.Issues;
using static Rectify.Api.Tests.EvidenceFiles.EvidenceFileKit;

namespace Rectify.Api.Tests.EvidenceFiles;

/// <summary>
/// Evidence files through HTTP: each allowed kind checked by its bytes, the size limit (64 KiB in this app), versions
/// with their hashes, downloads with ETag, Range and RFC 5987 names, unit scope, the reviewer's decision, and a journal,
/// change feed and outbox that carry metadata only.
/// </summary>
public sealed class EvidenceFileTests(EvidenceFileApp app) : IClassFixture<EvidenceFileApp>
{
    readonly IssueKit _kit = new(app);

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    static string Text(JsonNode? node) => node!.GetValue<string>();

    public static TheoryData<string, string> Kinds => new()
    {
        { "pdf", Pdf }, { "png", Png }, { "jpeg", Jpeg }, { "docx", Docx }, { "xlsx", Xlsx }, { "ofd", Ofd },
    };

    static byte[] Sample(string kind) => kind switch
    {
        "pdf" => PdfBytes(), "png" => PngBytes(), "jpeg" => JpegBytes(), "docx" => DocxBytes(), "xlsx" => XlsxBytes(), _ => OfdBytes(),
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Each_allowed_kind_is_stored_with_its_hash_and_comes_back_byte_for_byte(string kind, string contentType)
    {
        var (measure, evidence) = await EvidenceAsync(_kit);
        var bytes = Sample(kind);
        using var uploaded = await UploadAsync(_kit.Client, measure, evidence, bytes, contentType, $"佐证材料.{kind}");
        var version = await uploaded.ShouldBeAsync(HttpStatusCode.Created);
        Assert.Equal(1, version["version"]!.GetValue<int>());
        Assert.Equal(Sha256(bytes), Text(version["sha256"]));
        Assert.Equal(bytes.Length, version["size"]!.GetValue<long>());
        Assert.Equal(contentType, Text(version["contentType"]));
        Assert.Equal($"佐证材料.{kind}", Text(version["fileName"]));
        Assert.Equal("submitted", Text(version["status"]));
        Assert.Equal(RectifyApp.ClientName, Text(version["uploadedBy"]));
        Assert.EndsWith($"{FilePath(measure, evidence)}/versions/1", uploaded.Headers.Location!.ToString());

        using var download = await _kit.Client.GetAsync(FilePath(measure, evidence), Ct);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(bytes, await download.Content.ReadAsByteArrayAsync(Ct));
        Assert.Equal(contentType, download.Content.Headers.ContentType!.MediaType);
        Assert.Equal($"\"{Sha256(bytes)}\"", download.Headers.ETag!.ToString());
    }

    [Fact]
    public async Task Octet_stream_lets_the_bytes_decide_and_a_multipart_form_uploads_like_a_browser()
    {
        var (measure, evidence) = await EvidenceAsync(_kit);
        using (var detected = await UploadAsync(_kit.Client, measure, evidence, PngBytes(), "application/octet-stream", "照片.png"))
            Assert.Equal(Png, Text((await detected.ShouldBeAsync(HttpStatusCode.Created))["contentType"]));

        var bytes = DocxBytes();
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = MediaTypeHeaderValue.Parse(Docx);
        form.Add(file, "file", "关于加强农村红白理事会建设的通知.docx");
        using var uploaded = await _kit.Client.PutAsync(FilePath(measure, evidence), form, Ct);
        var version = await uploaded.ShouldBeAsync(HttpStatusCode.Created);
        Assert.Equal(2, version["version"]!.GetValue<int>());
        Assert.Equal(Docx, Text(version["contentType"]));
        Assert.Equal("关于加强农村红白理事会建设的通知.docx", Text(version["fileName"]));
        Assert.Equal(Sha256(bytes), Text(version["sha256"]));

        using var empty = new MultipartFormDataContent { { new StringContent("no file"), "note" } };
        using var noFile = await _kit.Client.PutAsync(FilePath(measure, evidence), empty, Ct);
        await noFile.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
    }

    [Fact]
    public async Task A_file_at_the_limit_is_taken_and_one_byte_more_is_a_413_declared_or_chunked()
    {
        var (measure, evidence) = await EvidenceAsync(_kit);
        var prefix = PdfBytes(padding: 0).Length;
        var atLimit = PdfBytes(padding: EvidenceFileApp.MaxBytes - prefix);
        Assert.Equal(EvidenceFileApp.MaxBytes, atLimit.Length);
        using (var taken = await UploadAsync(_kit.Client, measure, evidence, atLimit, Pdf))
            Assert.Equal(EvidenceFileApp.MaxBytes, (await taken.ShouldBeAsync(HttpStatusCode.Created))["size"]!.GetValue<long>());

        var over = PdfBytes(padding: EvidenceFileApp.MaxBytes - prefix + 1);
        using (var declared = await UploadAsync(_kit.Client, measure, evidence, over, Pdf))
            await declared.ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge, "payload-too-large");
        using (var chunked = await UploadAsync(_kit.Client, measure, evidence, over, Pdf, chunked: true))
            await chunked.ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge, "payload-too-large");
        Assert.Equal(1L, await app.ScalarAsync<long>("SELECT count(*) FROM evidence_file_versions WHERE evidence_id = @evidence", new { evidence }));
    }

    [Fact]
    public async Task Bytes_of_no_allowed_kind_are_a_415_and_bytes_of_another_kind_than_declared_a_422()
    {
        var (measure, evidence) = await EvidenceAsync(_kit);
        var text = Encoding.UTF8.GetBytes("这不是PDF，只是一段文字。");
        using (var undeclared = await UploadAsync(_kit.Client, measure, evidence, text, "text/plain"))
            await undeclared.ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType, "unsupported-media-type");
        using (var unknown = await UploadAsync(_kit.Client, measure, evidence, text, "application/octet-stream"))
            await unknown.ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType, "unsupported-media-type");
        using (var pretended = await UploadAsync(_kit.Client, measure, evidence, text, Pdf))
            await pretended.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "file-content-mismatch");
        using (var png = await UploadAsync(_kit.Client, measure, evidence, PngBytes(), Pdf))
            await png.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "file-content-mismatch");
        using (var sheet = await UploadAsync(_kit.Client, measure, evidence, XlsxBytes(), Docx))
            await sheet.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "file-content-mismatch");
        using (var plainZip = await UploadAsync(_kit.Client, measure, evidence, Zip("readme.txt"), Docx))
            await plainZip.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "file-content-mismatch");
        var truncated = DocxBytes()[..40]; // a zip's local header without its central directory
        using (var broken = await UploadAsync(_kit.Client, measure, evidence, truncated, "application/octet-stream"))
            await broken.ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType, "unsupported-media-type");
        Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM evidence_file_versions WHERE evidence_id = @evidence", new { evidence }));
    }

    [Fact]
    public async Task Every_upload_is_a_new_version_listed_with_its_hash_and_each_version_stays_readable()
    {
        var (measure, evidence) = await EvidenceAsync(_kit);
        var first = PdfBytes("first draft");
        var second = PdfBytes("signed copy");
        using (var one = await UploadAsync(_kit.Client, measure, evidence, first, Pdf)) await one.ShouldBeAsync(HttpStatusCode.Created);
        using (var two = await UploadAsync(_kit.Client, measure, evidence, second, Pdf)) await two.ShouldBeAsync(HttpStatusCode.Created);

        var versions = (await _kit.Client.GetJsonAsync($"{FilePath(measure, evidence)}/versions")).AsArray();
        Assert.Equal([1, 2], versions.Select(v => v!["version"]!.GetValue<int>()));
        Assert.Equal([Sha256(first), Sha256(second)], versions.Select(v => Text(v!["sha256"])));
        Assert.All(versions, v => Assert.Equal("submitted", Text(v!["status"])));

        Assert.Equal(first, await _kit.Client.GetByteArrayAsync($"{FilePath(measure, evidence)}/versions/1", Ct));
        Assert.Equal(second, await _kit.Client.GetByteArrayAsync($"{FilePath(measure, evidence)}/versions/2", Ct));
        Assert.Equal(second, await _kit.Client.GetByteArrayAsync(FilePath(measure, evidence), Ct));
        using (var missing = await _kit.Client.GetAsync($"{FilePath(measure, evidence)}/versions/3", Ct))
            await missing.ShouldBeProblemAsync(HttpStatusCode.NotFound, "not-found");

        var (bareMeasure, bare) = await EvidenceAsync(_kit);
        Assert.Empty((await _kit.Client.GetJsonAsync($"{FilePath(bareMeasure, bare)}/versions")).AsArray());
    }

    [Fact]
    public async Task Downloads_answer_304_to_their_etag_serve_one_range_and_refuse_a_range_outside_the_file()
    {
        var (measure, evidence) = await EvidenceAsync(_kit);
        var bytes = PdfBytes(padding: 5000);
        using (var uploaded = await UploadAsync(_kit.Client, measure, evidence, bytes, Pdf)) await uploaded.ShouldBeAsync(HttpStatusCode.Created);
        var path = FilePath(measure, evidence);
        var etag = $"\"{Sha256(bytes)}\"";

        using (var request = new HttpRequestMessage(HttpMethod.Get, path))
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", etag);
            using var notModified = await _kit.Client.SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
            Assert.Empty(await notModified.Content.ReadAsByteArrayAsync(Ct));
        }

        using (var request = new HttpRequestMessage(HttpMethod.Get, path))
        {
            request.Headers.Range = new RangeHeaderValue(100, 1123);
            using var partial = await _kit.Client.SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
            Assert.Equal($"bytes 100-1123/{bytes.Length}", partial.Content.Headers.ContentRange!.ToString());
            Assert.Equal(bytes[100..1124], await partial.Content.ReadAsByteArrayAsync(Ct));
        }

        using (var request = new HttpRequestMessage(HttpMethod.Get, path))
        {
            request.Headers.Range = new RangeHeaderValue(null, 10);
            using var tail = await _kit.Client.SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.PartialContent, tail.StatusCode);
            Assert.Equal(bytes[^10..], await tail.Content.ReadAsByteArrayAsync(Ct));
        }

        using (var request = new HttpRequestMessage(HttpMethod.Get, path))
        {
            request.Headers.Range = new RangeHeaderValue(0, 9);
            request.Headers.TryAddWithoutValidation("If-Range", "\"an-older-file\"");
            using var whole = await _kit.Client.SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
            Assert.Equal(bytes, await whole.Content.ReadAsByteArrayAsync(Ct));
        }

        using (var request = new HttpRequestMessage(HttpMethod.Get, path))
        {
            request.Headers.Range = new RangeHeaderValue(bytes.Length + 10, bytes.Length + 20);
            using var outside = await _kit.Client.SendAsync(request, Ct);
            await outside.ShouldBeProblemAsync(HttpStatusCode.RequestedRangeNotSatisfiable, "range-not-satisfiable");
            Assert.Equal($"bytes */{bytes.Length}", outside.Content.Headers.ContentRange!.ToString());
        }
    }

    [Fact]
    public async Task A_chinese_file_name_is_kept_sanitised_and_sent_back_per_rfc_6266_and_5987()
    {
        var (measure, evidence) = await EvidenceAsync(_kit);
        using (var uploaded = await UploadAsync(_kit.Client, measure, evidence, PdfBytes(), Pdf, "C:\\文件\\海南省公墓管理办法\u0007 (2025).pdf"))
            Assert.Equal("海南省公墓管理办法 (2025).pdf", Text((await uploaded.ShouldBeAsync(HttpStatusCode.Created))["fileName"]));

        using var download = await _kit.Client.GetAsync(FilePath(measure, evidence), Ct);
        var disposition = string.Join(", ", download.Content.Headers.GetValues("Content-Disposition"));
        Assert.Equal("attachment; filename=\"_________ (2025).pdf\"; "
            + "filename*=UTF-8''%E6%B5%B7%E5%8D%97%E7%9C%81%E5%85%AC%E5%A2%93%E7%AE%A1%E7%90%86%E5%8A%9E%E6%B3%95%20%282025%29.pdf", disposition);
        Assert.Equal("海南省公墓管理办法 (2025).pdf", download.Content.Headers.ContentDisposition!.FileNameStar);

        var (otherMeasure, other) = await EvidenceAsync(_kit);
        using var byQuery = await UploadAsync(_kit.Client, otherMeasure, other, PngBytes(), Png, fileName: null);
        Assert.Equal("evidence.png", Text((await byQuery.ShouldBeAsync(HttpStatusCode.Created))["fileName"]));
    }

    [Fact]
    public async Task A_client_uploads_only_for_its_units_and_an_evidence_entry_of_another_measure_is_not_found()
    {
        var (measure, evidence) = await EvidenceAsync(_kit);
        var shjz = app.ClientWith(await app.CreateClientAsync(Seed.Unique("shjz"), [Scopes.Read, Scopes.Write], units: ["HNMZT.SHJZ"]));
        using (var outside = await UploadAsync(shjz, measure, evidence, PdfBytes(), Pdf))
            await outside.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        var (ownMeasure, ownEvidence) = await EvidenceAsync(_kit, owner: "HNMZT.SHJZ");
        using (var own = await UploadAsync(shjz, ownMeasure, ownEvidence, PdfBytes(), Pdf)) await own.ShouldBeAsync(HttpStatusCode.Created);

        using (var mixed = await UploadAsync(_kit.Client, ownMeasure, evidence, PdfBytes(), Pdf))
            await mixed.ShouldBeProblemAsync(HttpStatusCode.NotFound, "not-found");
        using (var unknown = await UploadAsync(_kit.Client, measure, 999_999_999, PdfBytes(), Pdf))
            await unknown.ShouldBeProblemAsync(HttpStatusCode.NotFound, "not-found");
        using (var noFile = await _kit.Client.GetAsync(FilePath(measure, evidence), Ct))
            await noFile.ShouldBeProblemAsync(HttpStatusCode.NotFound, "not-found");

        var reader = app.ClientWith(await app.CreateClientAsync(Seed.Unique("reader"), [Scopes.Read]));
        using var readOnly = await UploadAsync(reader, measure, evidence, PdfBytes(), Pdf);
        await readOnly.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task A_reviewer_decides_on_a_version_recording_the_hash_but_never_on_its_own_upload_and_only_once()
    {
        var (measure, evidence) = await EvidenceAsync(_kit);
        var bytes = PdfBytes("to be judged");
        using (var uploaded = await UploadAsync(_kit.Client, measure, evidence, bytes, Pdf)) await uploaded.ShouldBeAsync(HttpStatusCode.Created);
        var decision = $"{FilePath(measure, evidence)}/versions/1/decision";

        using (var own = await _kit.Client.PostJsonAsync(decision, new { decision = "accepted", comment = "自己审自己" }))
            await own.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "separation-of-duties");
        var writer = app.ClientWith(await app.CreateClientAsync(Seed.Unique("writer"), [Scopes.Read, Scopes.Write]));
        using (var noScope = await writer.PostJsonAsync(decision, new { decision = "accepted" }))
            await noScope.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "forbidden");

        var reviewer = await _kit.ReviewerAsync();
        using (var wrongHash = await reviewer.PostJsonAsync(decision, new { decision = "accepted", sha256 = new string('0', 64) }))
            await wrongHash.ShouldBeProblemAsync(HttpStatusCode.Conflict, "conflict");
        using (var accepted = await reviewer.PostJsonAsync(decision, new { decision = "accepted", comment = "文件与措施一致。", sha256 = Sha256(bytes) }))
        {
            var version = await accepted.ShouldBeAsync(HttpStatusCode.OK);
            Assert.Equal("accepted", Text(version["status"]));
            Assert.Equal(Sha256(bytes), Text(version["decidedSha256"]));
            Assert.Equal("文件与措施一致。", Text(version["decisionComment"]));
        }
        using (var again = await reviewer.PostJsonAsync(decision, new { decision = "rejected" }))
            await again.ShouldBeProblemAsync(HttpStatusCode.Conflict, "conflict");
        using (var missing = await reviewer.PostJsonAsync($"{FilePath(measure, evidence)}/versions/9/decision", new { decision = "rejected" }))
            await missing.ShouldBeProblemAsync(HttpStatusCode.NotFound, "not-found");

        var listed = Assert.Single((await _kit.Client.GetJsonAsync($"{FilePath(measure, evidence)}/versions")).AsArray())!;
        Assert.Equal("accepted", Text(listed["status"]));

        // The measure's evidence entry shows its file: the versions, the latest's hash and where its review stands.
        var second = PdfBytes("second version");
        using (var uploaded = await UploadAsync(_kit.Client, measure, evidence, second, Pdf)) await uploaded.ShouldBeAsync(HttpStatusCode.Created);
        var entry = (await _kit.Client.GetJsonAsync($"/api/v1/measures/{measure}"))["evidence"]!.AsArray()
            .Single(e => e!["id"]!.GetValue<long>() == evidence)!;
        Assert.Equal(2, entry["fileVersions"]!.GetValue<int>());
        Assert.Equal(Sha256(second), Text(entry["latestFileSha256"]));
        Assert.Equal("submitted", Text(entry["latestFileStatus"]));
        using var plain = await _kit.Client.PostJsonAsync($"/api/v1/measures/{measure}/evidence", new { title = "无附件的佐证" });
        var withoutFile = await plain.ShouldBeAsync(HttpStatusCode.Created);
        Assert.Equal(0, withoutFile["fileVersions"]!.GetValue<int>());
        Assert.Null(withoutFile["latestFileSha256"]);
    }

    [Fact]
    public async Task The_journal_change_feed_and_outbox_carry_hash_size_and_name_but_never_the_content()
    {
        var (measure, evidence) = await EvidenceAsync(_kit);
        const string Marker = "CONTENT-MARKER-7f3a";
        var bytes = PdfBytes(Marker);
        using (var uploaded = await UploadAsync(_kit.Client, measure, evidence, bytes, Pdf, "整改报告.pdf"))
            await uploaded.ShouldBeAsync(HttpStatusCode.Created);

        var journal = (await _kit.Client.GetJsonAsync($"/api/v1/journal?entity=measure&entityId={measure}&limit=50"))["items"]!.AsArray();
        var entry = Assert.Single(journal, e => Text(e!["action"]) == "evidence-file")!;
        Assert.Equal(Sha256(bytes), Text(entry["after"]!["sha256"]));
        Assert.Equal(bytes.Length, entry["after"]!["size"]!.GetValue<long>());
        Assert.Equal("整改报告.pdf", Text(entry["after"]!["fileName"]));
        var base64 = Convert.ToBase64String(bytes);
        foreach (var sql in new[]
        {
            "SELECT count(*) FROM journal WHERE after::text LIKE '%' || @marker || '%' OR after::text LIKE '%' || @base64 || '%'",
            "SELECT count(*) FROM webhook_events WHERE data::text LIKE '%' || @marker || '%' OR data::text LIKE '%' || @base64 || '%'",
        })
            Assert.Equal(0L, await app.ScalarAsync<long>(sql, new { marker = Marker, base64 }));

        Assert.Equal(1L, await app.ScalarAsync<long>(
            "SELECT count(*) FROM changes WHERE entity = 'evidence-file' AND (key ->> 'evidenceId')::bigint = @evidence", new { evidence }));
        Assert.Equal(1L, await app.ScalarAsync<long>("""
            SELECT count(*) FROM webhook_events WHERE type = 'measure.evidence-file-uploaded' AND unit_code = 'HNMZT.SHSW'
              AND data -> 'evidenceFile' ->> 'sha256' = @sha AND NOT (data -> 'evidenceFile' ? 'content')
            """, new { sha = Sha256(bytes) }));
    }
}
