using System.ComponentModel;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Http;

namespace Rectify.Api.Features.Units;

public enum UnitKind { Province, City, District, County, Department, Division, Other }

/// <summary>An organisation or a region (GB/T 2260 code for regions, a short stable code for departments).</summary>
public sealed record UnitResponse(string Code, string Name, string? NameEn, UnitKind Kind, string? Parent);

public sealed record UnitListQuery : PageRequest
{
    [Description("Only the direct children of this unit code.")]
    public string? Parent { get; init; }

    [Description("Only units of this kind: province, city, district, county, department, division, other.")]
    public string? Kind { get; init; }

}

sealed class UnitRow
{
    public string Code { get; init; } = "";
    public string Name { get; init; } = "";
    public string? NameEn { get; init; }
    public string Kind { get; init; } = "";
    public string? ParentCode { get; init; }

    public UnitResponse ToResponse() => new(Code, Name, NameEn, EnumText.Parse<UnitKind>(Kind), ParentCode);
}
