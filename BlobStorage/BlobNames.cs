using System.Globalization;

namespace BlobStorage;

/// <summary>
/// The blob name rules shared by every <see cref="IBlobStore"/>. One rule set for all backends means a name that
/// works on a developer's local folder also works on Azure, and no name can escape a local root folder.
/// </summary>
public static class BlobNames
{
    public const int MaxLength = 1024;

    /// <summary>Throws <see cref="ArgumentException"/> naming the blob and the broken rule.</summary>
    public static void Validate(string name, string parameterName = "name")
    {
        ArgumentNullException.ThrowIfNull(name, parameterName);
        var problem = FindProblem(name, isPrefix: false);
        if (problem is not null)
        {
            throw new ArgumentException($"Invalid blob name \"{Printable(name)}\": {problem}.", parameterName);
        }
    }

    /// <summary>
    /// A list prefix may be empty, may end with '/', and its last segment may be a partial name ("frames/00");
    /// every complete segment before it follows the name rules, so a prefix cannot point outside the store either.
    /// </summary>
    public static void ValidatePrefix(string prefix, string parameterName = "prefix")
    {
        ArgumentNullException.ThrowIfNull(prefix, parameterName);
        if (prefix.Length == 0)
        {
            return;
        }

        var problem = FindProblem(prefix, isPrefix: true);
        if (problem is not null)
        {
            throw new ArgumentException($"Invalid blob name prefix \"{Printable(prefix)}\": {problem}.", parameterName);
        }
    }

    public static bool IsValid(string name) => name is not null && FindProblem(name, isPrefix: false) is null;

    private static string? FindProblem(string name, bool isPrefix)
    {
        if (name.Length == 0)
        {
            return "it must not be empty";
        }

        if (name.Length > MaxLength)
        {
            return $"it is {name.Length} characters long, the maximum is {MaxLength}";
        }

        if (name[0] == '/')
        {
            return "it must not start with '/'";
        }

        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (c == '\\')
            {
                return $"it must not contain a backslash (at index {i}); use '/' to separate segments";
            }

            if (char.IsControl(c))
            {
                return $"it must not contain control characters (U+{(int)c:X4} at index {i})";
            }

            // A lone surrogate has no UTF-8 encoding, so it cannot travel in a URL nor name a file.
            if (char.IsHighSurrogate(c) && (i + 1 >= name.Length || !char.IsLowSurrogate(name[i + 1])))
            {
                return $"it must not contain an unpaired surrogate (at index {i})";
            }

            if (char.IsLowSurrogate(c) && (i == 0 || !char.IsHighSurrogate(name[i - 1])))
            {
                return $"it must not contain an unpaired surrogate (at index {i})";
            }
        }

        var segments = name.Split('/');
        // For a prefix the last segment is only the beginning of a name, so only complete segments are checked.
        var completeSegments = isPrefix ? segments.Length - 1 : segments.Length;
        for (var s = 0; s < completeSegments; s++)
        {
            var segment = segments[s];
            if (segment.Length == 0)
            {
                return isPrefix
                    ? "it must not contain empty segments ('//')"
                    : "it must not contain empty segments ('//') nor end with '/'";
            }

            if (segment == "..")
            {
                return "it must not contain '..' segments";
            }

            if (segment == ".")
            {
                return "it must not contain '.' segments";
            }

            // Azure documents that segments ending in '.' misbehave (URL normalisation drops the dot on some paths).
            if (segment[^1] == '.')
            {
                return $"segment \"{segment}\" must not end with '.'";
            }
        }

        return null;
    }

    /// <summary>Control characters in an exception message would garble logs, so they are shown escaped.</summary>
    private static string Printable(string name)
    {
        const int shown = 200;
        var clipped = name.Length > shown ? name[..shown] + "..." : name;
        var builder = new System.Text.StringBuilder(clipped.Length);
        foreach (var c in clipped)
        {
            if (char.IsControl(c))
            {
                builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }
}
