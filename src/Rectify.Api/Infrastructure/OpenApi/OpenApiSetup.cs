using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace Rectify.Api.Infrastructure.OpenApi;

/// <summary>Marks an operation that honours Idempotency-Key without creating through IdempotentCreates.</summary>
public sealed record AcceptsIdempotencyKey;

/// <summary>Example request and answer of an operation, in Chinese domain terms, shown in the OpenAPI document.</summary>
public sealed record OpenApiExample(object? Request, object? Response);

public static class OpenApiSetup
{
    const string BearerScheme = "ApiKey";

    public const string DocumentPath = "/openapi/v1.json";

    public static IServiceCollection AddRectifyOpenApi(this IServiceCollection services)
    {
        services.AddOpenApi("v1", options =>
        {
            options.CreateSchemaReferenceId = JournalStateSchema.ReferenceId;
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "Rectify API",
                    Version = "v1",
                    Description = """
                        Tracks the rectification (整改) of the problems an inspection (巡视) found: inspection rounds, the issues
                        they raised, the measures taken, their progress and evidence, and the journal of every change.

                        Conventions: JSON with camelCase names; dates `YYYY-MM-DD`; instants (`date-time`) ISO 8601 with an
                        offset (`2030-01-01T00:00:00Z`, `+08:00`; one without is refused), answered in UTC; lists page with
                        `limit` and the opaque `cursor` of the previous page's `nextCursor`; single resources carry an `ETag`
                        and updates require `If-Match` (412 when stale, 428 when missing); creates accept an `Idempotency-Key`
                        (a replay returns the first answer with `Idempotent-Replayed: true`; the key with another body is 422).
                        Every error is an RFC 9457 problem (`application/problem+json`) with a stable `type`, a `title`, the
                        `traceId`, and for invalid fields an `errors` map of field → messages.
                        """,
                };
                // The document is committed and compared in tests: it must not depend on the host that served it. No
                // servers at all (rather than "/"): generated clients then take the base address from the caller.
                document.Servers = [];
                foreach (var tag in document.Tags ?? new HashSet<OpenApiTag>())
                {
                    if (TagDescriptions.TryGetValue(tag.Name ?? "", out var description)) tag.Description = description;
                }
                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, context, _) =>
            {
                // [AsParameters] records bind query names case-insensitively; document them in the API's camelCase.
                foreach (var parameter in operation.Parameters?.OfType<OpenApiParameter>() ?? [])
                {
                    if (parameter.In == ParameterLocation.Query && parameter.Name is { Length: > 0 } name && char.IsUpper(name[0]))
                        parameter.Name = char.ToLowerInvariant(name[0]) + name[1..];
                }
                DocumentParameterRules(operation, context);
                DocumentInstants(operation, context);
                return Task.CompletedTask;
            });
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http, Scheme = "bearer", BearerFormat = "API key",
                    Description = "The calling system's API key (rfy_…), issued by an admin. Also accepted as the X-Api-Key header.",
                };
                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, context, _) =>
            {
                // Said outright for the unauthenticated operations (health): an empty requirement, no key needed.
                if (context.Description.ActionDescriptor.EndpointMetadata.OfType<Microsoft.AspNetCore.Authorization.IAllowAnonymous>().Any())
                    operation.Security = [new OpenApiSecurityRequirement()];
                // Each operation names the one scope it needs; bearer schemes carry no scopes, so the description says it too.
                if (context.Description.ActionDescriptor.EndpointMetadata.OfType<Auth.RequiredScope>().FirstOrDefault() is { } required)
                {
                    operation.Security =
                        [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [required.Scope] }];
                    operation.Description = $"{operation.Description}\n\nRequires scope `{required.Scope}`.";
                }
                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, context, _) =>
            {
                DocumentHeaders(operation, context);
                if (context.Description.RelativePath?.StartsWith("api/", StringComparison.Ordinal) == true)
                {
                    ProblemResponses.DocumentCommonProblems(operation, context.Document!);
                    ResponseHeaders.DocumentReadConsistency(operation, context.Description.HttpMethod);
                }
                ResponseHeaders.Document(operation, context.Description.ActionDescriptor.EndpointMetadata);
                return Task.CompletedTask;
            });
            options.AddSchemaTransformer((schema, context, _) =>
            {
                if (typeof(Microsoft.AspNetCore.Mvc.ProblemDetails).IsAssignableFrom(context.JsonTypeInfo.Type))
                    ProblemResponses.DescribeProblem(schema, context.JsonTypeInfo.Type);
                // Data numbers are decimals (numeric in PostgreSQL), never binary floating point: say so.
                if (context.JsonTypeInfo.Type == typeof(decimal) || context.JsonTypeInfo.Type == typeof(decimal?)) schema.Format = "decimal";
                // Instants go through InstantConverterFactory (and Instant in queries), which the generator cannot see into.
                if ((Nullable.GetUnderlyingType(context.JsonTypeInfo.Type) ?? context.JsonTypeInfo.Type) is var instant
                    && (instant == typeof(DateTime) || instant == typeof(DateTimeOffset) || instant == typeof(Http.Instant)))
                {
                    // A query parameter is left out rather than null.
                    var nullable = Nullable.GetUnderlyingType(context.JsonTypeInfo.Type) is not null
                        && context.ParameterDescription?.Source != Microsoft.AspNetCore.Mvc.ModelBinding.BindingSource.Query;
                    schema.Type = nullable ? JsonSchemaType.String | JsonSchemaType.Null : JsonSchemaType.String;
                    schema.Format = "date-time";
                }
                // States and kinds go through StrictEnumConverter, which the schema generator cannot see into: name the values.
                if ((Nullable.GetUnderlyingType(context.JsonTypeInfo.Type) ?? context.JsonTypeInfo.Type) is { IsEnum: true } enumType)
                {
                    // The component is shared by nullable and plain uses; the generator wraps a nullable use in
                    // oneOf [null, $ref] itself, and a nullable component would make that oneOf match null twice.
                    DescribeEnum(schema, enumType, nullable: false);
                }
                else if (schema.Items is null && ElementType(context.JsonTypeInfo.Type) is { IsEnum: true } elementType)
                {
                    var items = new OpenApiSchema();
                    DescribeEnum(items, elementType, nullable: false);
                    schema.Items = items;
                    ListedEnums.TryAdd(elementType.Name, elementType);
                }
                return Task.CompletedTask;
            });
            options.AddDocumentTransformer((document, _, _) =>
            {
                ReferToEnumComponents(document);
                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, context, _) =>
            {
                var example = context.Description.ActionDescriptor.EndpointMetadata.OfType<OpenApiExample>().LastOrDefault();
                if (example is null) return Task.CompletedTask;
                var serializer = context.ApplicationServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
                if (example.Request is not null && operation.RequestBody?.Content is { } requestContent)
                {
                    foreach (var media in requestContent.Values) media.Example = JsonSerializer.SerializeToNode(example.Request, serializer);
                }
                if (example.Response is not null && operation.Responses is { } responses)
                {
                    var success = responses.Where(r => r.Key.StartsWith('2')).Select(r => r.Value.Content).FirstOrDefault(c => c is { Count: > 0 });
                    foreach (var media in success?.Values ?? []) media.Example = JsonSerializer.SerializeToNode(example.Response, serializer);
                }
                return Task.CompletedTask;
            });
            // Generated clients: after every operation's own transformers (which describe their text answers) and schemas.
            options.AddDocumentTransformer((document, _, _) =>
            {
                foreach (var operation in document.Paths?.Values.SelectMany(p => p.Operations?.Values.AsEnumerable() ?? [])
                    ?? []) TextResponses.Document(operation);
                JournalStateSchema.Describe(document);
                return Task.CompletedTask;
            });
        });
        return services;
    }

    static readonly Dictionary<string, string> TagDescriptions = new(StringComparer.Ordinal)
    {
        ["Units"] = "The administrative units (province, cities, counties, the department and its divisions) that own work and report figures.",
        ["Rounds"] = "Inspection rounds (巡视): who inspected whom, when, and the rectification deadline.",
        ["Issues"] = "The problems a round found (问题), their sub-issues, state, review (申请销号) and closing (销号).",
        ["Measures"] = "The rectification measures (整改措施) of an issue: owner unit, dates, progress entries and evidence.",
        ["Journal"] = "Every change, with the calling system that made it, before and after.",
        ["Indicators"] = "Indicators (指标) linked to issues and measures, with their targets and monthly series.",
        ["Data values"] = "Indicator values per unit and period, and the monthly push that brings them.",
        ["Reporting"] = "Reporting completeness: who reported which indicator for a period, on time, late or not at all.",
        ["Snapshots"] = "The state of a round at the end of each month: pushed or drafted, published (frozen), revised, compared.",
        ["Dashboard"] = "A round at a glance: counts, overdue and due-soon work, progress per area, indicators, trend.",
        ["Reports"] = "The public progress report of a month, in Chinese, as HTML or Markdown.",
        ["Clients"] = "The calling systems, their scopes and units, and their API keys (scope admin).",
        ["Health"] = "Liveness and readiness, without a key, for load balancers and orchestrators.",
    };

    /// <summary>
    /// Documents the concurrency and idempotency headers an operation takes, read off what it does: a handler that
    /// creates through <see cref="Http.IdempotentCreates"/> takes Idempotency-Key; an operation that can answer 428
    /// requires If-Match, one that can answer 412 only accepts it.
    /// </summary>
    static void DocumentHeaders(OpenApiOperation operation, OpenApiOperationTransformerContext context)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        var handler = metadata.OfType<System.Reflection.MethodInfo>().FirstOrDefault();
        var responses = operation.Responses?.Keys.ToHashSet() ?? [];
        operation.Parameters ??= [];
        if (handler?.GetParameters().Any(p => p.ParameterType == typeof(Http.IdempotentCreates)) == true
            || metadata.OfType<AcceptsIdempotencyKey>().Any())
        {
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = Http.IdempotentCreates.Header, In = ParameterLocation.Header, Required = false,
                Description =
                    "Makes the create safe to retry: a replay with the same key and body returns the first answer (with Idempotent-Replayed: " +
                    "true); the same key with another body is 422.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = 200 },
            });
        }
        if (responses.Contains("412"))
        {
            var required = responses.Contains("428");
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = "If-Match", In = ParameterLocation.Header, Required = required,
                Description = required
                    ? "The ETag last read. Required: 428 without it, 412 when the resource changed since."
                    : "The ETag last read. Optional: when sent, 412 if the resource changed since.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            });
        }
    }

    /// <summary>A query instant (<see cref="Http.Instant"/>, parsed by its TryParse) is a date-time string, as in bodies.</summary>
    static void DocumentInstants(OpenApiOperation operation, OpenApiOperationTransformerContext context)
    {
        foreach (var description in context.Description.ParameterDescriptions)
        {
            if ((Nullable.GetUnderlyingType(description.Type) ?? description.Type) != typeof(Http.Instant)) continue;
            var parameter = operation.Parameters?.OfType<OpenApiParameter>()
                .FirstOrDefault(p => string.Equals(p.Name, description.Name, StringComparison.OrdinalIgnoreCase));
            if (parameter?.Schema is OpenApiSchema schema) schema.Format = "date-time";
        }
    }

    /// <summary>
    /// What request validation checks before the handler runs, said in the document: a parameter with [Required] is
    /// required, one limited by [AllowedValues] lists them as its enum.
    /// </summary>
    static void DocumentParameterRules(OpenApiOperation operation, OpenApiOperationTransformerContext context)
    {
        foreach (var description in context.Description.ParameterDescriptions)
        {
            var attributes = description.ParameterDescriptor switch
            {
                Microsoft.AspNetCore.Mvc.Infrastructure.IPropertyInfoParameterDescriptor p => p.PropertyInfo.GetCustomAttributes(true),
                Microsoft.AspNetCore.Mvc.Infrastructure.IParameterInfoParameterDescriptor p => p.ParameterInfo.GetCustomAttributes(true),
                _ => [],
            };
            var parameter = operation.Parameters?.OfType<OpenApiParameter>()
                .FirstOrDefault(p => p.Name?.Equals(description.Name, StringComparison.OrdinalIgnoreCase) == true);
            if (parameter is not null && attributes.OfType<System.ComponentModel.DataAnnotations.RequiredAttribute>().Any()) parameter.Required =
                true;
            if (attributes.OfType<System.ComponentModel.DataAnnotations.AllowedValuesAttribute>().FirstOrDefault() is not { } allowed) continue;
            if (parameter?.Schema is OpenApiSchema schema)
                schema.Enum = [.. allowed.Values.OfType<string>().Select(value => (JsonNode)JsonValue.Create(value))];
        }
    }

    /// <summary>Attaches an example request and answer to an operation's OpenAPI description.</summary>
    public static RouteHandlerBuilder WithExample(this RouteHandlerBuilder builder, object? request = null, object? response = null)
        => builder.WithMetadata(new OpenApiExample(request, response));

    /// <summary>The document and Swagger UI, unauthenticated; outside Development only when Rectify:Access:ServeApiDocs is true.</summary>
    public static WebApplication MapRectifyOpenApi(this WebApplication app)
    {
        var serve = app.Environment.IsDevelopment() || app.Services.GetRequiredService<IOptions<Auth.AccessOptions>>().Value.ServeApiDocs;
        if (!serve) return app;
        app.MapOpenApi(DocumentPath).ExcludeFromDescription().AllowAnonymous();
        app.UseSwaggerUI(options =>
        {
            options.RoutePrefix = "swagger";
            options.SwaggerEndpoint(DocumentPath, "Rectify API v1");
            options.DocumentTitle = "Rectify API";
        });
        return app;
    }

    /// <summary>The enums seen as list items (scopes, allowedTransitions), by name.</summary>
    static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Type> ListedEnums = new(StringComparer.Ordinal);

    /// <summary>
    /// A list of values of an enum (a client's scopes, an issue's or a measure's allowedTransitions) refers to the enum's
    /// named component, made here when no single use of the enum made one: generated clients then share one type for the
    /// list and the resource's own state, instead of a new inline type per property (NSwag's AllowedTransitions2).
    /// </summary>
    static void ReferToEnumComponents(OpenApiDocument document)
    {
        var schemas = document.Components?.Schemas;
        if (schemas is null) return;
        foreach (var (name, type) in ListedEnums)
        {
            var values = EnumText.Names(type);
            var lists = schemas.Values.OfType<OpenApiSchema>().SelectMany(s => s.Properties?.Values.OfType<OpenApiSchema>() ?? [])
                .Where(p => p.Items is OpenApiSchema { Enum.Count: > 0 } items && items.Enum.Select(v => v?.GetValue<string>()).SequenceEqual(values))
                .ToList();
            if (lists.Count == 0) continue;
            if (!schemas.ContainsKey(name))
            {
                var component = new OpenApiSchema();
                DescribeEnum(component, type, nullable: false);
                schemas[name] = component;
            }
            foreach (var list in lists) list.Items = new OpenApiSchemaReference(name, document);
        }
    }

    static Type? ElementType(Type type)
        => type.IsArray ? type.GetElementType()
            : type.GetInterfaces().Append(type)
                .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0];

    static void DescribeEnum(OpenApiSchema schema, Type enumType, bool nullable)
    {
        schema.Type = nullable ? JsonSchemaType.String | JsonSchemaType.Null : JsonSchemaType.String;
        schema.Enum = [.. EnumText.Names(enumType).Select(name => (JsonNode)name)];
        if (nullable) schema.Enum.Add(null!);
    }
}
