using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Http;

namespace Rectify.Api.Features.Clients;

/// <summary>A calling system known to Rectify.</summary>
public sealed record ClientResponse(
    long Id, string Name, string? Contact, IReadOnlyList<ClientScope> Scopes,
    [property: Description("Units (and the units below them) it may write for; null: every unit.")] IReadOnlyList<string>? Units,
    DateTime CreatedAt, DateTime? RevokedAt, IReadOnlyList<KeyResponse> Keys);

/// <summary>An API key as lists show it: its public prefix, never the key.</summary>
public sealed record KeyResponse(string Prefix, DateTime CreatedAt, DateTime? ExpiresAt, DateTime? RevokedAt);

/// <summary>A new key: the only time the key itself is shown. Store it now; only its hash is kept.</summary>
public sealed record IssuedKeyResponse(string Client, string Prefix, string Key, DateTime? ExpiresAt);

public sealed record CreateClientRequest
{
    [Description("Stable name of the calling system, e.g. haikou-civil-affairs.")]
    [Required(ErrorMessage = ClientNames.Message)]
    [RegularExpression(ClientNames.Pattern, ErrorMessage = ClientNames.Message)]
    public required string Name { get; init; }

    [Description("Who to call about it (team, phone, mail).")]
    [StringLength(300)]
    public string? Contact { get; init; }

    [Description("What it may do: read, write, push, review, admin.")]
    [MinLength(1)]
    public required IReadOnlyList<ClientScope> Scopes { get; init; }

    [Description("Unit codes it may write for (the units below them included); leave out for every unit.")]
    [MaxLength(1000)]
    public IReadOnlyList<string>? Units { get; init; }
}

public sealed record IssueKeyRequest
{
    [Description("When the key stops working; leave out for a key that does not expire.")]
    public DateTime? ExpiresAt { get; init; }
}

public sealed record ClientListQuery : PageRequest;

static class ClientNames
{
    public const string Pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$";
    public const string Message = "Use 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit.";
}

sealed class ClientRow
{
    public long Id { get; init; }
    public string Name { get; init; } = "";
    public string? Contact { get; init; }
    public string[] Scopes { get; init; } = [];
    public string[]? Units { get; init; }
    public DateTime CreatedAt { get; init; }
    public DateTime? RevokedAt { get; init; }

    public ClientResponse ToResponse(IEnumerable<KeyResponse> keys)
        => new(Id, Name, Contact, [.. Scopes.Select(EnumText.Parse<ClientScope>)], Units, CreatedAt, RevokedAt, keys.ToList());
}
