using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Npgsql;
using Rectify.Api.Tests.Faults;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.EvidenceFiles;

/// <summary>
/// A 20 MiB upload and download through the service as a real process: the process's peak resident memory (VmHWM,
/// reset before each transfer through /proc/PID/clear_refs) may rise by a few MB at most above its resident memory
/// before the transfer. A service that held the file in memory would rise by 20 MiB or more.
/// </summary>
public sealed class EvidenceFileMemoryTests(TestCluster cluster, ITestOutputHelper output)
{
    const int FileBytes = 20 * 1024 * 1024;
    const long AllowedRiseBytes = 8L * 1024 * 1024;

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact(Timeout = 120_000)]
    public async Task A_20_MiB_upload_and_download_raise_the_services_peak_memory_by_a_few_MB_at_most()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "Peak resident memory is read from /proc.");
        var connectionString = await cluster.CreateDatabaseAsync();
        var apiKey = await TestKeys.CreateAsync(connectionString, Ct);
        await using var service = await ApiProcess.StartAsync(ApiProcessFaultTests.Settings(connectionString), Ct);
        service.ApiKey = apiKey;
        using var client = service.Client(TimeSpan.FromSeconds(60));
        var path = await EvidencePathAsync(client, connectionString);

        // Warm up: the code paths compiled and the pools filled by a first, small transfer.
        using (var warm = await UploadAsync(client, path, 1024 * 1024)) Assert.Equal(HttpStatusCode.Created, warm.StatusCode);
        await DownloadAsync(client, path);

        var (uploadRise, uploadResponse) = await PeakRiseAsync(service.ProcessId, () => UploadAsync(client, path, FileBytes));
        var version = JsonNode.Parse(await uploadResponse.Content.ReadAsStringAsync(Ct))!;
        Assert.Equal(HttpStatusCode.Created, uploadResponse.StatusCode);
        Assert.Equal(FileBytes, version["size"]!.GetValue<long>());
        var (downloadRise, downloaded) = await PeakRiseAsync(service.ProcessId, () => DownloadAsync(client, path));
        Assert.Equal(version["sha256"]!.GetValue<string>(), downloaded.Sha256);
        Assert.Equal(FileBytes, downloaded.Length);

        output.WriteLine($"20 MiB upload: peak resident memory rose by {uploadRise / 1024.0 / 1024:0.0} MiB; "
            + $"20 MiB download: by {downloadRise / 1024.0 / 1024:0.0} MiB (allowed {AllowedRiseBytes / 1024 / 1024} MiB).");
        TestContext.Current.SendDiagnosticMessage($"Evidence file memory: upload +{uploadRise / 1024.0 / 1024:0.0} MiB, "
            + $"download +{downloadRise / 1024.0 / 1024:0.0} MiB peak RSS for 20 MiB.");
        Assert.True(uploadRise < AllowedRiseBytes, $"The upload raised the peak by {uploadRise} bytes.");
        Assert.True(downloadRise < AllowedRiseBytes, $"The download raised the peak by {downloadRise} bytes.");
    }

    /// <summary>How far the process's peak resident memory rose above its resident memory before <paramref name="transfer"/>.</summary>
    static async Task<(long Rise, T Result)> PeakRiseAsync<T>(int pid, Func<Task<T>> transfer)
    {
        await File.WriteAllTextAsync($"/proc/{pid}/clear_refs", "5", Ct); // resets VmHWM to the current VmRSS
        var before = Status(pid, "VmRSS:");
        var result = await transfer();
        return (Status(pid, "VmHWM:") - before, result);
    }

    static long Status(int pid, string field)
    {
        var line = File.ReadLines($"/proc/{pid}/status").Single(l => l.StartsWith(field, StringComparison.Ordinal));
        return long.Parse(line[field.Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }

    /// <summary>A PDF of <paramref name="size"/> bytes, generated as it is sent (the test process holds none of it either).</summary>
    static Task<HttpResponseMessage> UploadAsync(HttpClient client, string path, int size)
    {
        var content = new StreamContent(new GeneratedPdf(size), 64 * 1024);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/pdf");
        content.Headers.ContentLength = size;
        return client.PutAsync($"{path}?fileName=large.pdf", content, Ct);
    }

    static async Task<(string Sha256, long Length)> DownloadAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var body = await response.Content.ReadAsStreamAsync(Ct);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[64 * 1024];
        long length = 0;
        int read;
        while ((read = await body.ReadAsync(buffer, Ct)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            length += read;
        }
        return (Convert.ToHexStringLower(hash.GetHashAndReset()), length);
    }

    /// <summary>Units by SQL (the migrations create none), then a round, an issue, a measure and an evidence entry through the API.</summary>
    static async Task<string> EvidencePathAsync(HttpClient client, string connectionString)
    {
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync(Ct);
            await using var insert = new NpgsqlCommand("""
                INSERT INTO units (code, name, kind, parent_code) VALUES ('HNMZT', '海南省民政厅', 'department', NULL),
                  ('HNMZT.SHSW', '社会事务处', 'division', 'HNMZT')
                """, connection);
            await insert.ExecuteNonQueryAsync(Ct);
        }
        var round = await CreatedAsync(client, "/api/v1/rounds", new
        {
            code = "HN-MEM", name = "八届省委第六轮巡视", inspectedUnit = "HNMZT", inspectionBody = "八届省委第六轮巡视第六巡视组",
            inspectionStart = "2024-09-01", inspectionEnd = "2024-12-31", state = "rectifying",
        });
        var issue = await CreatedAsync(client, "/api/v1/issues", new
        {
            round = round["code"]!.GetValue<string>(), code = "1", title = "殡葬改革推行不力", category = "殡葬管理", leadUnit = "HNMZT.SHSW",
            responsibleLeader = "厅长", dueDate = "2026-12-31",
        });
        var measureId = (await CreatedAsync(client, "/api/v1/measures", new
        {
            issueId = issue["id"]!.GetValue<long>(), code = "1.1", title = "整治殡葬乱象", ownerUnit = "HNMZT.SHSW", dueDate = "2026-12-31",
        }))["id"]!.GetValue<long>();
        var evidence = await CreatedAsync(client, $"/api/v1/measures/{measureId}/evidence", new { title = "海南省公墓管理办法" });
        var evidenceId = evidence["id"]!.GetValue<long>();
        return EvidenceFileKit.FilePath(measureId, evidenceId);
    }

    static async Task<JsonNode> CreatedAsync(HttpClient client, string url, object body)
    {
        using var response = await client.PostJsonAsync(url, body);
        return await response.ShouldBeAsync(HttpStatusCode.Created);
    }

    /// <summary>%PDF- and then filler bytes, produced as read.</summary>
    sealed class GeneratedPdf(long size) : Stream
    {
        static readonly byte[] Header = "%PDF-1.7\n"u8.ToArray();
        long _position;

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, size - _position);
            for (var i = 0; i < n; i++)
            {
                var at = _position + i;
                buffer[offset + i] = at < Header.Length ? Header[at] : (byte)('a' + at % 26);
            }
            _position += n;
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => size;
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
