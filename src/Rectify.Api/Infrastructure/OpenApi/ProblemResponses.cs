using Microsoft.AspNetCore.Mvc;
using Microsoft.OpenApi;

namespace Rectify.Api.Infrastructure.OpenApi;

/// <summary>The error answers shared by families of operations, documented in one place.</summary>
public static class ProblemResponses
{
    /// <summary>PUT of a versioned resource: bad fields, not found, refused move, stale or missing If-Match, broken rule.</summary>
    public static RouteHandlerBuilder ProducesUpdateProblems(this RouteHandlerBuilder builder)
        => builder.ProducesActionProblems()
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status428PreconditionRequired);

    /// <summary>An action on a resource with an optional If-Match: bad fields, not found, refused move, stale If-Match.</summary>
    public static RouteHandlerBuilder ProducesActionProblems(this RouteHandlerBuilder builder)
        => builder.ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed);

    /// <summary>
    /// Describes a problem schema as the service writes it (see ProblemSetup): type, title, status, instance and traceId
    /// always, detail nearly always, errors on invalid fields, from/to/allowed on a refused state move, the blocking
    /// items on a refused close.
    /// </summary>
    public static void DescribeProblem(OpenApiSchema schema, Type type)
    {
        var properties = schema.Properties ??= new Dictionary<string, IOpenApiSchema>();
        properties["type"] = Text("Stable identifier of the kind of problem (urn:rectify:problem:…): integrators switch on it.");
        properties["title"] = Text("Short summary of the kind of problem.");
        properties["status"] =
            new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32", Description = "The HTTP status code of the answer." };
        properties["detail"] = Text("What went wrong in this case, and what to do about it.");
        properties["instance"] = Text("The path of the request.");
        properties["traceId"] = Text("The trace id of the request, as the service logged it: quote it when reporting a fault.");
        var validation = type == typeof(HttpValidationProblemDetails);
        properties["errors"] = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = validation
                ? "The fields to correct (JSON paths such as values[3].unit, or query parameter names), each with its messages; absent when no " +
                    "field can be named (a body that breaks a limit, a value the database cannot store)."
                : "On 422: the field that refers to something that does not exist or does not fit, with its message.",
            AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.Array, Items = Text("A message.") },
        };
        // The refused close and state move belong to the shared problem schema; a problem type of its own (the push's
        // 422) says exactly what it carries.
        if (type == typeof(ProblemDetails))
        {
            properties["blockingMeasures"] = Blocking("On a refused close (409, closing-blocked): the measures neither done nor cancelled.");
            properties["blockingSubIssues"] = Blocking("On a refused close (409, closing-blocked): the sub-issues not closed.");
            properties["measuresWithoutAcceptedEvidence"] = Blocking(
                "On a refused close (409, closing-blocked): the done measures without an accepted evidence entry.");
            properties["closedIssue"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Integer, Format = "int64",
                Description = "On a change under a closed issue (409, issue-closed): the issue's id.",
            };
            properties["from"] = Text("On a refused state move (409): the current state.");
            properties["to"] = Text("On a refused state move (409): the state asked for.");
            properties["allowed"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Array, Items = Text("A state."),
                    Description = "On a refused state move (409): the states that may follow the current one.",
            };
        }
        // The generator's required (a problem type's own required members, the push's summary) stay required.
        schema.Required = new HashSet<string>(["type", "title", "status", "instance", "traceId", .. schema.Required ?? new HashSet<string>()]);
        schema.AdditionalPropertiesAllowed = false;
    }

    /// <summary>
    /// Documents on every API operation the problems any request can meet whatever the operation: 400 (a request that
    /// breaks the protocol or a limit), 503 (the database unreachable, with Retry-After), 422 where an Idempotency-Key
    /// is taken (the key reused), and on operations with a body 413 (over the operation's size limit) and 415 (a
    /// content type the operation does not take).
    /// </summary>
    public static void DocumentCommonProblems(OpenApiOperation operation, OpenApiDocument document)
    {
        var responses = operation.Responses ??= [];
        DocumentLanguage(operation, document);
        Add(400, "The request is malformed or a field is invalid.", "HttpValidationProblemDetails");
        Add(503, "The database is unreachable: retry after the time given in Retry-After.", "ProblemDetails");
        if (operation.Parameters?.Any(p => p.Name == Http.IdempotentCreates.Header) == true)
            Add(422, "The Idempotency-Key was used before with another body or operation.", "ProblemDetails");
        if (operation.RequestBody is null) return;
        Add(413, "The body is over the operation's size limit.", "ProblemDetails");
        Add(415, "The body's Content-Type is not one the operation takes.", "ProblemDetails");

        void Add(int status, string description, string schema)
        {
            var key = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (responses.ContainsKey(key)) return;
            responses[key] = new OpenApiResponse
            {
                Description = description,
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/problem+json"] = new() { Schema = new OpenApiSchemaReference(schema, document) },
                },
            };
        }
    }

    /// <summary>
    /// The Accept-Language header on every API operation, and examples of a problem
    /// said in English and in Chinese on the operation's 400 and 404: the type and field keys are the same in both.
    /// </summary>
    static void DocumentLanguage(OpenApiOperation operation, OpenApiDocument document)
    {
        operation.Parameters ??= [];
        if (!operation.Parameters.Any(p => p.Name == "Accept-Language"))
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = "Accept-Language", In = ParameterLocation.Header, Required = false,
                Description = "The language of a problem's title, detail and field messages: zh-CN (or zh) for Chinese, en for English; "
                    + "without it, the service's default (Localization:DefaultLanguage, English unless configured). "
                    + "The problem type and the field keys are the same in every language.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String }, Example = System.Text.Json.Nodes.JsonValue.Create("zh-CN"),
            });

        var components = document.Components ??= new OpenApiComponents();
        components.Examples ??= new Dictionary<string, IOpenApiExample>();
        foreach (var (name, example) in LanguageExamples) components.Examples.TryAdd(name, (IOpenApiExample)example);
        Examples("400", "Invalid");
        Examples("404", "NotFound");

        void Examples(string status, string kind)
        {
            if (operation.Responses?.TryGetValue(status, out var response) != true
                || response!.Content?.TryGetValue("application/problem+json", out var media) != true || media!.Examples?.Count > 0) return;
            media.Examples = new Dictionary<string, IOpenApiExample>
            {
                ["en"] = new OpenApiExampleReference($"{kind}ProblemEnglish", document),
                ["zh-CN"] = new OpenApiExampleReference($"{kind}ProblemChinese", document),
            };
        }
    }

    static readonly Dictionary<string, Microsoft.OpenApi.OpenApiExample> LanguageExamples = new()
    {
        ["InvalidProblemEnglish"] = Example("Accept-Language: en", """
            {"type":"urn:rectify:problem:validation","title":"One or more fields are invalid","status":400,
             "detail":"See errors for the fields to correct.","instance":"/api/v1/measures/1/evidence",
             "errors":{"title":["title must not be empty and at most 500 characters long."]},"traceId":"4bf92f3577b34da6a3ce929d0e0e4736"}
            """),
        ["InvalidProblemChinese"] = Example("Accept-Language: zh-CN", """
            {"type":"urn:rectify:problem:validation","title":"请求无效","status":400,
             "detail":"请按 errors 中列出的字段逐项更正。","instance":"/api/v1/measures/1/evidence",
             "errors":{"title":["title 不能为空，且不得超过 500 个字符。"]},"traceId":"4bf92f3577b34da6a3ce929d0e0e4736"}
            """),
        ["NotFoundProblemEnglish"] = Example("Accept-Language: en", """
            {"type":"urn:rectify:problem:not-found","title":"Not found","status":404,"detail":"No measure '42' exists.",
             "instance":"/api/v1/measures/42","traceId":"4bf92f3577b34da6a3ce929d0e0e4736"}
            """),
        ["NotFoundProblemChinese"] = Example("Accept-Language: zh-CN", """
            {"type":"urn:rectify:problem:not-found","title":"未找到","status":404,"detail":"整改措施“42”不存在。",
             "instance":"/api/v1/measures/42","traceId":"4bf92f3577b34da6a3ce929d0e0e4736"}
            """),
    };

    static Microsoft.OpenApi.OpenApiExample Example(string summary, string json) =>
        new() { Summary = summary, Value = System.Text.Json.Nodes.JsonNode.Parse(json) };

    static OpenApiSchema Text(string description) => new() { Type = JsonSchemaType.String, Description = description };

    static OpenApiSchema Blocking(string description) => new()
    {
        Type = JsonSchemaType.Array, Description = description,
        Items = new OpenApiSchema
        {
            Type = JsonSchemaType.Object, AdditionalPropertiesAllowed = false,
            Required = new HashSet<string>(["id", "code", "title", "state"]),
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["id"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int64" },
                ["code"] = Text("The measure's or sub-issue's code."),
                ["title"] = Text("Its title."),
                ["state"] = Text("Its state."),
            },
        },
    };
}
