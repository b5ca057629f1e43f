using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Microsoft.OpenApi;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.OpenApi;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Features.EvidenceFiles;

/// <summary>The file of an evidence entry: upload (a new version each time), versions, downloads with ETag and Range, decisions.</summary>
public static class EvidenceFileEndpoints
{
    const string FilePath = "/{id:long}/evidence/{evidenceId:long}/file";

    public static IEndpointRouteBuilder MapEvidenceFiles(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/measures").WithTags("Evidence files");

        group.MapPut(FilePath, Upload).RequireScope(Scopes.Write)
            .WithName("UploadEvidenceFile")
            .WithSummary("Upload the file of an evidence entry (佐证材料)")
            .WithDescription("""
                Stores the body as the next version of the entry's file (1, 2, …; old versions stay readable). Send the file as the raw body with
                its Content-Type (application/pdf, image/png, image/jpeg, DOCX, XLSX, application/ofd, or application/octet-stream to let the bytes
                decide) and its name in Content-Disposition (filename*=UTF-8''… for Chinese names) or the fileName query parameter; or, from a
                browser, as multipart/form-data with one file part. The bytes are checked: a type outside the list, or bytes of none of its kinds,
                is a 415; bytes of another kind than declared a 422 (file-content-mismatch). At most Rectify:EvidenceFiles:MaxBytes (20 MiB by
                default): a larger body is a 413, refused from its Content-Length before it is read. The answer carries the SHA-256, size and
                sanitised name; the journal records them (never the content), the change feed an evidence-file entry and subscribers the event
                measure.evidence-file-uploaded. Write scope, for measures of the client's units (403); refused (409) under a closed issue.
                """)
            .WithLocation("The version created.")
            .Produces<FileVersionResponse>(StatusCodes.Status201Created)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                operation.RequestBody = UploadBody();
                return Task.CompletedTask;
            })
            .WithExample(response: Examples.Version);

        group.MapGet(FilePath, DownloadLatest).RequireScope(Scopes.Read).ProducesFile()
            .WithName("DownloadEvidenceFile")
            .WithSummary("Download the latest version of an evidence file")
            .WithDescription($"The bytes of the entry's latest file version. {DownloadText}");

        group.MapGet(FilePath + "/versions", ListVersions).RequireScope(Scopes.Read)
            .WithName("ListEvidenceFileVersions")
            .WithSummary("List the versions of an evidence file")
            .WithDescription("Every uploaded version, oldest first: number, SHA-256, size, name, type, review status, who uploaded it and when. "
                + "Empty before the first upload.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithExample(response: new[] { Examples.Version with { Version = 1, Status = "rejected" }, Examples.Version });

        group.MapGet(FilePath + "/versions/{version:int}", DownloadVersion).RequireScope(Scopes.Read).ProducesFile()
            .WithName("DownloadEvidenceFileVersion")
            .WithSummary("Download one version of an evidence file")
            .WithDescription($"The bytes of version n, as they were uploaded and judged. {DownloadText}");

        group.MapPost(FilePath + "/versions/{version:int}/decision", Decide).RequireScope(Scopes.Review)
            .WithName("DecideEvidenceFileVersion")
            .WithSummary("Accept or reject a version of an evidence file")
            .WithDescription("""
                A reviewer's verdict on one version (submitted → accepted or rejected), with a comment; the version's SHA-256 is recorded as the
                hash judged (send sha256 to have a 409 if the bytes you looked at are not this version's). Review scope; not by the client that
                uploaded the version (403, separation-of-duties); once per version (409: a new upload is judged as a new version). Journaled with
                before and after.
                """)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithExample(Examples.Decision, Examples.Version with
            {
                Status = "accepted", DecidedBy = "hainan-province-review", DecidedAt = new DateTime(2025, 11, 6, 2, 0, 0, DateTimeKind.Utc),
                DecisionComment = Examples.Decision.Comment, DecidedSha256 = Examples.Version.Sha256,
            });

        return routes;
    }

    const string DownloadText = """
        Streamed with its media type, Content-Disposition: attachment with the file name (filename="ASCII fallback"; filename*=UTF-8''… per RFC
        6266/5987), ETag the SHA-256 in quotes (If-None-Match answers 304) and Accept-Ranges: bytes: one Range (e.g. bytes=0-1023) answers 206 with
        Content-Range, honouring If-Range; a range outside the file is a 416 problem. Read scope; 404 when there is no such file or version.
        """;

    static async Task<Created<FileVersionResponse>> Upload(long id, long evidenceId, [FromQuery] string? fileName, EvidenceFileUseCases files,
        IOptions<EvidenceFileOptions> options, HttpContext http, CancellationToken ct)
    {
        await files.EnsureMayUploadAsync(id, evidenceId, ct);
        await using var upload = await EvidenceUpload.ReadAsync(http, fileName, options.Value.MaxBytes, ct);
        var version = await files.UploadAsync(id, evidenceId, upload, ct);
        return TypedResults.Created($"/api/v1/measures/{id}/evidence/{evidenceId}/file/versions/{version.Version}", version);
    }

    static Task<IResult> DownloadLatest(long id, long evidenceId, EvidenceFileUseCases files, HttpContext http, CancellationToken ct)
        => DownloadAsync(files, http, id, evidenceId, null, ct);

    static Task<IResult> DownloadVersion(long id, long evidenceId, int version, EvidenceFileUseCases files, HttpContext http, CancellationToken ct)
        => DownloadAsync(files, http, id, evidenceId, version, ct);

    /// <summary>
    /// The framework's file result does the HTTP of it (If-None-Match, If-Range, Range, 206/304/416); the stream reads the
    /// database in slices as the answer is written, so neither the file nor a range of it is ever held whole.
    /// </summary>
    static async Task<IResult> DownloadAsync(EvidenceFileUseCases files, HttpContext http, long id, long evidenceId, int? version,
        CancellationToken ct)
    {
        var (found, content) = await files.OpenAsync(id, evidenceId, version, ct);
        http.Response.Headers.ContentDisposition = FileNames.Attachment(found.FileName);
        http.Response.Headers.XContentTypeOptions = "nosniff";
        var file = TypedResults.Stream(content, found.ContentType, fileDownloadName: null,
            lastModified: new DateTimeOffset(found.UploadedAt, TimeSpan.Zero), entityTag: new EntityTagHeaderValue($"\"{found.Sha256}\""),
            enableRangeProcessing: true);
        return new FileAnswer(file);
    }

    /// <summary>
    /// The file result, whose 416 (a range outside the file) is an empty answer typed as the file: made a problem here,
    /// keeping the Content-Range that names the file's size.
    /// </summary>
    sealed class FileAnswer(IResult file) : IResult
    {
        public async Task ExecuteAsync(HttpContext http)
        {
            await file.ExecuteAsync(http);
            if (http.Response.StatusCode != StatusCodes.Status416RangeNotSatisfiable || http.Response.HasStarted) return;
            http.Response.ContentType = null;
            http.Response.Headers.ContentDisposition = default;
            http.Response.Headers.ETag = default;
            http.Response.Headers.LastModified = default;
            http.Response.Headers.ContentLength = null;
            await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
            {
                HttpContext = http,
                ProblemDetails = new ProblemDetails
                {
                    Status = StatusCodes.Status416RangeNotSatisfiable, Type = ProblemTypes.RangeNotSatisfiable,
                    Detail = "The range asked for lies outside the file: Content-Range gives its size.",
                },
            });
        }
    }

    static async Task<Ok<IReadOnlyList<FileVersionResponse>>> ListVersions(long id, long evidenceId, EvidenceFileUseCases files, CancellationToken ct)
        => TypedResults.Ok(await files.ListAsync(id, evidenceId, ct));

    static async Task<Ok<FileVersionResponse>> Decide(long id, long evidenceId, int version, FileDecisionRequest request, EvidenceFileUseCases files,
        CancellationToken ct)
        => TypedResults.Ok(await files.DecideAsync(id, evidenceId, version, request, ct));

    static readonly string[] MediaTypes = [.. FileKinds.All.Select(k => k.MediaType)];

    /// <summary>The download answers: the bytes (200, 206), 304, and the headers a client acts on.</summary>
    static RouteHandlerBuilder ProducesFile(this RouteHandlerBuilder builder)
        => builder.Produces<string>(StatusCodes.Status200OK, MediaTypes[0], MediaTypes[1..])
            .Produces<string>(StatusCodes.Status206PartialContent, MediaTypes[0], MediaTypes[1..])
            .Produces(StatusCodes.Status304NotModified)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status416RangeNotSatisfiable)
            .ProducesETag("The SHA-256 of the bytes, in quotes: send it in If-None-Match (304) or If-Range.")
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                DescribeDownload(operation);
                return Task.CompletedTask;
            });

    static void DescribeDownload(OpenApiOperation operation)
    {
        operation.Parameters ??= [];
        operation.Parameters.Add(Header("Range", "One byte range, e.g. bytes=0-1023 or bytes=-500 (the last 500 bytes): answered with 206."));
        operation.Parameters.Add(Header("If-None-Match", "The ETag you hold: 304 when the file is still that one."));
        operation.Parameters.Add(Header("If-Range",
            "With Range: the ETag you hold; when the file is another one now, the whole file is sent (200)."));
        foreach (var (status, response) in operation.Responses ?? [])
        {
            if (response is not OpenApiResponse answer) continue;
            answer.Headers ??= new Dictionary<string, IOpenApiHeader>();
            if (status is "200" or "206")
            {
                answer.Headers["Content-Disposition"] = ResponseHeader(
                    "attachment; filename=\"ASCII fallback\"; filename*=UTF-8''percent-encoded original name (RFC 6266, RFC 5987).");
                answer.Headers["Accept-Ranges"] = ResponseHeader("bytes.");
                answer.Headers["Last-Modified"] = ResponseHeader("When the version was uploaded.");
            }
            if (status is "200" or "206" && answer.Content?.TryGetValue(FileKinds.Pdf.MediaType, out var pdf) == true) pdf.Example = PdfExample;
            if (status == "206") answer.Headers["Content-Range"] = ResponseHeader("bytes first-last/size of the range sent.");
            if (status == "416") answer.Headers["Content-Range"] = ResponseHeader("bytes */size: the file's size.");
        }
    }

    /// <summary>What a PDF's bytes begin with, as the example of a binary body.</summary>
    static System.Text.Json.Nodes.JsonNode PdfExample => System.Text.Json.Nodes.JsonValue.Create("%PDF-1.7 … %%EOF");

    static OpenApiParameter Header(string name, string description) => new()
    {
        Name = name, In = ParameterLocation.Header, Required = false, Description = description,
        Schema = new OpenApiSchema { Type = JsonSchemaType.String },
    };

    static OpenApiHeader ResponseHeader(string description) => new()
    {
        Description = description, Schema = new OpenApiSchema { Type = JsonSchemaType.String },
    };

    /// <summary>The upload's body: the file as raw bytes of an allowed type, or a multipart form with one file part.</summary>
    static OpenApiRequestBody UploadBody()
    {
        var content = new Dictionary<string, OpenApiMediaType>();
        foreach (var media in MediaTypes.Append(FileKinds.Unspecified))
            content[media] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" } };
        content[FileKinds.Pdf.MediaType].Example = PdfExample;
        content["multipart/form-data"] = new OpenApiMediaType
        {
            Schema = new OpenApiSchema
            {
                Type = JsonSchemaType.Object, Required = new HashSet<string>(["file"]),
                Properties = new Dictionary<string, IOpenApiSchema>
                {
                    ["file"] = new OpenApiSchema
                    {
                        Type = JsonSchemaType.String, Format = "binary",
                        Description = "The file; its part's Content-Type is the declared type and its filename the name kept.",
                    },
                },
            },
        };
        return new OpenApiRequestBody
        {
            Required = true, Content = content,
            Description = "The file: PDF, PNG, JPEG, DOCX, XLSX or OFD, at most Rectify:EvidenceFiles:MaxBytes (20 MiB by default).",
        };
    }

    /// <summary>The notice 《海南省公墓管理办法》 of measure 1.1 of the reference case, as its office would upload it.</summary>
    static class Examples
    {
        public static readonly FileVersionResponse Version = new()
        {
            MeasureId = 1, EvidenceId = 3, Version = 2, Sha256 = "9f2c5ad8e0b7a4f1c3d6e9b2a5f8c1d4e7b0a3f6c9d2e5b8a1f4c7d0e3b6a9f2",
            Size = 482_113, FileName = "海南省公墓管理办法.pdf", ContentType = FileKinds.Pdf.MediaType, Status = "submitted",
            UploadedBy = "hainan-mzt-office", UploadedAt = new DateTime(2025, 11, 5, 2, 0, 0, DateTimeKind.Utc),
        };

        public static readonly FileDecisionRequest Decision = new()
        {
            Decision = FileDecision.Accepted, Comment = "文件与整改措施一致，予以认可。", Sha256 = Version.Sha256,
        };
    }
}
