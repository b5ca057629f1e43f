using System.Net;
using System.Text;
using Microsoft.AspNetCore.Hosting;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.DataValues;

/// <summary>
/// Bodies the push cannot read are 4xx problems that name the body, never a 5xx, and write nothing: an empty body,
/// a CSV without its header, broken CSV or JSON, text that is not UTF-8, a media type it does not take.
/// </summary>
public sealed class ImportLimitTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly ImportKit _kit = new(app);

    async Task BadBodyAsync(HttpResponseMessage response, string indicator)
    {
        using (response)
        {
            var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
            Assert.NotNull(problem["errors"]!["body"]);
        }
        Assert.Equal(0L, await _kit.CountAsync(indicator));
    }

    [Theory]
    [InlineData("text/csv", "")]
    [InlineData("application/json", "")]
    [InlineData("application/json", " \r\n\t ")]
    public async Task An_empty_body_is_a_bad_request_naming_the_body(string contentType, string body)
    {
        var indicator = await _kit.IndicatorAsync();
        await BadBodyAsync(await _kit.PushBytesAsync(Encoding.UTF8.GetBytes(body), contentType, "atomic=false"), indicator);
    }

    [Theory]
    [InlineData("{0},460000,2025-09,1,")]                                  // no header: the first line is data
    [InlineData("indicator,unit,period,amount,comment\n{0},460000,2025-09,1,")]
    [InlineData("indicator,unit,period\n{0},460000,2025-09")]
    [InlineData("indicator,unit,period,value,comment,source\n{0},460000,2025-09,1,,x")]
    [InlineData("unit,indicator,period,value\n460000,{0},2025-09,1")]      // the columns are in a fixed order
    [InlineData("indicator;unit;period;value;comment\n{0};460000;2025-09;1;")]
    public async Task A_csv_without_the_header_or_with_another_header_is_a_bad_request(string csv)
    {
        var indicator = await _kit.IndicatorAsync();
        await BadBodyAsync(await _kit.PushCsvAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, csv, indicator), "atomic=false"), indicator);
    }

    [Fact]
    public async Task A_csv_with_an_unclosed_quote_is_a_bad_request()
    {
        var indicator = await _kit.IndicatorAsync();
        var csv = ImportKit.Csv([$"{indicator},460000,2025-09,1,ok", $"{indicator},460000,2025-10,2,\"never closed"]);
        await BadBodyAsync(await _kit.PushCsvAsync(csv, "atomic=false"), indicator);
    }

    [Theory]
    [InlineData("text/csv")]
    [InlineData("application/json")]
    public async Task A_body_that_is_not_utf8_is_a_bad_request(string contentType)
    {
        var indicator = await _kit.IndicatorAsync();
        // GB18030, as a spreadsheet program on a Chinese desktop may save it.
        var text = contentType == "text/csv"
            ? ImportKit.Csv([$"{indicator},460000,2025-09,1,福利彩票"])
            : $$"""[{"indicator":"{{indicator}}","unit":"460000","period":"2025-09","value":1,"comment":"福利彩票"}]""";
        var bytes = Encoding.UTF8.GetBytes(text).ToList();
        var at = bytes.IndexOf(0xE7); // the first byte of 福 in UTF-8
        bytes.RemoveRange(at, 3);
        bytes.InsertRange(at, [0xB8, 0xA3]); // 福 in GB18030
        await BadBodyAsync(await _kit.PushBytesAsync(bytes.ToArray(), contentType, "atomic=false"), indicator);
    }

    [Theory]
    [InlineData("[{0},")]
    [InlineData("[{0}")]
    [InlineData("[{0}] [{0}]")]
    [InlineData("[{0}]]")]
    [InlineData("{{\"rows\": [{0}]}}")]
    [InlineData("{{\"values\": [{0}], \"extra\": 1}}")]
    [InlineData("{{\"values\": 5}}")]
    [InlineData("{{}}")]
    [InlineData("\"values\"")]
    [InlineData("[{0},,{0}]")]
    [InlineData("[{{\"indicator\": \"x\", ]")]
    public async Task Malformed_json_is_a_bad_request(string template)
    {
        var indicator = await _kit.IndicatorAsync();
        var element = $$"""{"indicator":"{{indicator}}","unit":"460000","period":"2025-09","value":1}""";
        var json = string.Format(System.Globalization.CultureInfo.InvariantCulture, template, element);
        await BadBodyAsync(await _kit.PushRawJsonAsync(json, "atomic=false"), indicator);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/xml")]
    [InlineData("multipart/form-data; boundary=x")]
    [InlineData("application/problem+json")]
    [InlineData("application/csv")] // not registered; text/csv is the CSV media type (RFC 7111)
    [InlineData(null)]
    public async Task An_unsupported_media_type_is_415(string? contentType)
    {
        var indicator = await _kit.IndicatorAsync();
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(ImportKit.Csv([$"{indicator},460000,2025-09,1,"])));
        if (contentType is not null) content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        using var response = await _kit.PushAsync(content);
        await response.ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType, "unsupported-media-type");
        Assert.Equal(0L, await _kit.CountAsync(indicator));
    }

    [Fact]
    public async Task A_nul_character_in_a_comment_rejects_that_row_only()
    {
        // PostgreSQL text cannot hold NUL: caught as a row, not as a failure of the whole push.
        var indicator = await _kit.IndicatorAsync();
        var csv = ImportKit.Csv([$"{indicator},460000,2025-09,1,ok", $"{indicator},460100,2025-09,2,bad\0comment"]);
        var summary = await ImportKit.AppliedAsync(await _kit.PushCsvAsync(csv, "atomic=false"));
        ImportKit.Counts(summary, received: 2, inserted: 1, rejected: 1);
        Assert.Equal([(3, "comment")], ImportKit.Errors(summary));

        var json = $$"""[{"indicator":"{{indicator}}","unit":"460105","period":"2025-09","value":3,"comment":"bad\u0000"}, {"indicator":"{{indicator}}","unit":"HNMZT","period":"2025-09","value":4}]""";
        summary = await ImportKit.AppliedAsync(await _kit.PushRawJsonAsync(json, "atomic=false"));
        ImportKit.Counts(summary, received: 2, inserted: 1, rejected: 1);
        Assert.Equal([(1, "comment")], ImportKit.Errors(summary));
        Assert.Equal(["460000", "HNMZT"], (await _kit.ValuesAsync(indicator)).Select(v => v.Unit));
    }

    [Fact]
    public async Task A_value_beyond_the_decimal_range_is_a_rejected_row()
    {
        var indicator = await _kit.IndicatorAsync();
        var csv = ImportKit.Csv([$"{indicator},460000,2025-09,1e30,", $"{indicator},460100,2025-09,79228162514264337593543950335,"]);
        var summary = await ImportKit.AppliedAsync(await _kit.PushCsvAsync(csv, "atomic=false"));
        ImportKit.Counts(summary, received: 2, inserted: 1, rejected: 1);
        Assert.Equal([(2, "value")], ImportKit.Errors(summary));
        Assert.Equal(79228162514264337593543950335m, Assert.Single(await _kit.ValuesAsync(indicator)).Value);
    }
}

/// <summary>The service with small push caps, so that the caps can be reached in a test.</summary>
public sealed class SmallImportCapsApp(TestCluster cluster) : RectifyApp(cluster)
{
    public const int MaxRows = 10;
    public const int MaxBodyBytes = 4096;
    public const int MaxReportedErrors = 3;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Rectify:Import:MaxRows", MaxRows.ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("Rectify:Import:MaxBodyBytes", MaxBodyBytes.ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("Rectify:Import:MaxReportedErrors", MaxReportedErrors.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}

/// <summary>The configurable caps of a push: rows, body bytes, listed errors.</summary>
public sealed class ImportCapTests(SmallImportCapsApp app) : IClassFixture<SmallImportCapsApp>
{
    readonly ImportKit _kit = new(app);

    static IEnumerable<string> Rows(string indicator, int count, string comment = "")
        => Enumerable.Range(1, count).Select(i => $"{indicator},460000,{2000 + i:D4}-01,{i},{comment}");

    async Task TooLargeAsync(HttpResponseMessage response, string indicator)
    {
        using (response) await response.ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge, "payload-too-large");
        Assert.Equal(0L, await _kit.CountAsync(indicator));
    }

    [Fact]
    public async Task A_push_of_exactly_the_row_cap_lands()
    {
        var indicator = await _kit.IndicatorAsync();
        var summary = await ImportKit.AppliedAsync(await _kit.PushCsvAsync(ImportKit.Csv(Rows(indicator, SmallImportCapsApp.MaxRows))));
        ImportKit.Counts(summary, received: SmallImportCapsApp.MaxRows, inserted: SmallImportCapsApp.MaxRows);
    }

    [Fact]
    public async Task One_row_over_the_cap_is_413_and_writes_nothing()
    {
        var indicator = await _kit.IndicatorAsync();
        await TooLargeAsync(await _kit.PushCsvAsync(ImportKit.Csv(Rows(indicator, SmallImportCapsApp.MaxRows + 1)), "atomic=false"), indicator);

        var json = Enumerable.Range(1, SmallImportCapsApp.MaxRows + 1).Select(i => new { indicator, unit = "460000", period = $"{2000 + i:D4}-01", value = i }).ToArray();
        await TooLargeAsync(await _kit.PushJsonAsync(json, "atomic=false"), indicator);
    }

    [Fact]
    public async Task Rejected_rows_count_toward_the_row_cap()
    {
        var indicator = await _kit.IndicatorAsync();
        var rows = Rows(indicator, SmallImportCapsApp.MaxRows).Append($"{indicator},460000,2025-13,1,");
        await TooLargeAsync(await _kit.PushCsvAsync(ImportKit.Csv(rows), "atomic=false"), indicator);
    }

    [Fact]
    public async Task A_body_over_the_byte_cap_is_413_and_writes_nothing()
    {
        var indicator = await _kit.IndicatorAsync();
        var csv = ImportKit.Csv(Rows(indicator, 5, comment: new string('注', 400))); // 5 × 1,200 bytes of comment
        Assert.True(Encoding.UTF8.GetByteCount(csv) > SmallImportCapsApp.MaxBodyBytes);
        await TooLargeAsync(await _kit.PushCsvAsync(csv, "atomic=false"), indicator);

        // Without a Content-Length (streamed, chunked) the cap holds as well.
        var streamed = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(csv)));
        streamed.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("text/csv");
        var request = new HttpRequestMessage(HttpMethod.Post, ImportKit.ImportUrl + "?atomic=false") { Content = streamed };
        request.Headers.TransferEncodingChunked = true;
        await TooLargeAsync(await _kit.Client.SendAsync(request, TestContext.Current.CancellationToken), indicator);
    }

    [Fact]
    public async Task A_body_just_under_the_byte_cap_lands()
    {
        var indicator = await _kit.IndicatorAsync();
        var csv = ImportKit.Csv(Rows(indicator, 3, comment: new string('注', 400)));
        Assert.InRange(Encoding.UTF8.GetByteCount(csv), SmallImportCapsApp.MaxBodyBytes - 800, SmallImportCapsApp.MaxBodyBytes);
        ImportKit.Counts(await ImportKit.AppliedAsync(await _kit.PushCsvAsync(csv)), received: 3, inserted: 3);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(8)]
    public async Task Errors_beyond_the_listed_number_are_counted_and_marked_truncated(int bad)
    {
        var indicator = await _kit.IndicatorAsync();
        var rows = Enumerable.Range(1, bad).Select(i => $"{indicator},460000,{2000 + i:D4}-01,bad{i},").Prepend($"{indicator},460000,1999-01,1,").ToList();
        var summary = await ImportKit.AppliedAsync(await _kit.PushCsvAsync(ImportKit.Csv(rows), "atomic=false"));

        ImportKit.Counts(summary, received: bad + 1, inserted: 1, rejected: bad);
        Assert.Equal([(3, "value"), (4, "value"), (5, "value")], ImportKit.Errors(summary));
        Assert.True(summary["errorsTruncated"]!.GetValue<bool>());

        var refused = await ImportKit.RefusedAsync(await _kit.PushCsvAsync(ImportKit.Csv(rows.Take(4))));
        ImportKit.Counts(refused, received: 4, rejected: 3);
        Assert.Equal(3, ImportKit.Errors(refused).Length);
        Assert.False(refused["errorsTruncated"]!.GetValue<bool>());
    }
}
