using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Hosting;
using Rectify.Api.Tests.Infrastructure;
using Rectify.Api.Tests.Issues;

namespace Rectify.Api.Tests.EvidenceFiles;

/// <summary>The service with a small evidence-file limit (<see cref="MaxBytes"/>), so that tests reach it with small files.</summary>
public sealed class EvidenceFileApp(TestCluster cluster) : RectifyApp(cluster)
{
    public const int MaxBytes = 64 * 1024;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Rectify:EvidenceFiles:MaxBytes", MaxBytes.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}

/// <summary>Tiny valid samples of every allowed kind, built here, and the calls the evidence-file tests share.</summary>
public static class EvidenceFileKit
{
    public const string Pdf = "application/pdf";
    public const string Png = "image/png";
    public const string Jpeg = "image/jpeg";
    public const string Docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    public const string Xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    public const string Ofd = "application/ofd";

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A small PDF whose text carries <paramref name="marker"/> (to look for it where it must not be).</summary>
    public static byte[] PdfBytes(string marker = "Hainan cemetery rules", int padding = 0)
        => Encoding.ASCII.GetBytes($"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% {marker}\n{new string('x', padding)}\n%%EOF\n");

    public static byte[] PngBytes() =>
    [
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
        0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ];

    public static byte[] JpegBytes() =>
        [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0xFF, 0xD9];

    public static byte[] Zip(params string[] entries)
    {
        using var memory = new MemoryStream();
        using (var zip = new ZipArchive(memory, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var name in entries)
            {
                using var writer = new StreamWriter(zip.CreateEntry(name).Open());
                writer.Write("<?xml version=\"1.0\" encoding=\"UTF-8\"?><x/>");
            }
        }
        return memory.ToArray();
    }

    public static byte[] DocxBytes() => Zip("[Content_Types].xml", "_rels/.rels", "word/document.xml");
    public static byte[] XlsxBytes() => Zip("[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/worksheets/sheet1.xml");
    public static byte[] OfdBytes() => Zip("OFD.xml", "Doc_0/Document.xml", "Doc_0/Pages/Page_0/Content.xml");

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static string FilePath(long measure, long evidence) => $"/api/v1/measures/{measure}/evidence/{evidence}/file";

    /// <summary>A measure of <paramref name="owner"/> with one evidence entry: (measure id, evidence id).</summary>
    public static async Task<(long Measure, long Evidence)> EvidenceAsync(IssueKit kit, string owner = "HNMZT.SHSW")
    {
        var round = await kit.Seed.RoundAsync();
        var issue = IssueKit.Id(await kit.Seed.IssueAsync(round));
        var measure = IssueKit.Id(await kit.Seed.MeasureAsync(issue, owner: owner));
        using var added = await kit.Client.PostJsonAsync($"/api/v1/measures/{measure}/evidence", new { title = Seed.Unique("海南省公墓管理办法") });
        return (measure, IssueKit.Id(await added.ShouldBeAsync(HttpStatusCode.Created)));
    }

    /// <summary>PUTs <paramref name="bytes"/> raw with <paramref name="contentType"/>, the name in Content-Disposition (RFC 5987).</summary>
    public static Task<HttpResponseMessage> UploadAsync(HttpClient client, long measure, long evidence, byte[] bytes, string contentType,
        string? fileName = "公墓管理办法.pdf", bool chunked = false)
    {
        HttpContent content = chunked ? new StreamContent(new MemoryStream(bytes)) : new ByteArrayContent(bytes);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (chunked) content.Headers.ContentLength = null;
        if (fileName is not null)
        {
            var disposition = new ContentDispositionHeaderValue("attachment") { FileNameStar = fileName };
            content.Headers.ContentDisposition = disposition;
        }
        var request = new HttpRequestMessage(HttpMethod.Put, FilePath(measure, evidence)) { Content = content };
        if (chunked) request.Headers.TransferEncodingChunked = true;
        return client.SendAsync(request, Ct);
    }
}
