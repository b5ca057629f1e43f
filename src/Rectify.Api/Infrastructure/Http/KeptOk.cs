using System.Reflection;
using Microsoft.AspNetCore.Http.Metadata;
using Rectify.Api.Infrastructure.Database;

namespace Rectify.Api.Infrastructure.Http;

/// <summary>
/// A 200 whose body is JSON the read cache serialised once (<see cref="ReadCache"/>), written as it is; documented, like
/// <c>Ok&lt;T&gt;</c>, as <typeparamref name="T"/> in application/json.
/// </summary>
public sealed class KeptOk<T>(KeptJson answer) : IResult, IEndpointMetadataProvider, IStatusCodeHttpResult, IContentTypeHttpResult
{
    public int? StatusCode => StatusCodes.Status200OK;

    public string ContentType => "application/json; charset=utf-8";

    public Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = ContentType;
        response.ContentLength = answer.Utf8Json.Length;
        return response.Body.WriteAsync(answer.Utf8Json, httpContext.RequestAborted).AsTask();
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder)
        => builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(T), ["application/json"]));
}
