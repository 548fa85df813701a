using System.Security.Cryptography;
using System.Text;

namespace Grains.Interfaces;

/// <summary>
/// API keys: "scm_{keyId}_{secret}", keyId 16 hex characters (the lookup key, not secret), secret 32 random bytes
/// (base64url). Only SHA-256(salt || secret) with a random 16-byte per-key salt is stored; a 256-bit random secret
/// needs no slow KDF. Verification compares in constant time.
/// </summary>
public static class ApiKeys
{
    public const string Prefix = "scm_";

    public static (string KeyId, string ApiKey, byte[] Salt, byte[] Hash) Generate()
    {
        var keyId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var salt = RandomNumberGenerator.GetBytes(16);
        return (keyId, $"{Prefix}{keyId}_{secret}", salt, Hash(salt, secret));
    }

    public static byte[] Hash(byte[] salt, string secret)
    {
        var bytes = Encoding.UTF8.GetBytes(secret);
        var input = new byte[salt.Length + bytes.Length];
        salt.CopyTo(input, 0);
        bytes.CopyTo(input, salt.Length);
        return SHA256.HashData(input);
    }

    public static bool Matches(byte[] salt, byte[] expectedHash, string secret) =>
        CryptographicOperations.FixedTimeEquals(Hash(salt, secret), expectedHash);

    /// <summary>Splits a key into id and secret; throws <see cref="ApiAuthException"/> when missing or malformed.</summary>
    public static (string KeyId, string Secret) Parse(string? apiKey)
    {
        if (string.IsNullOrWhiteSpace(apiKey))
            throw new ApiAuthException(AuthProblem.MissingKey, "no API key given (set SCM_API_KEY or use a credentials file)");
        apiKey = apiKey.Trim();
        int sep = apiKey.IndexOf('_', Prefix.Length);
        if (!apiKey.StartsWith(Prefix, StringComparison.Ordinal) || sep != Prefix.Length + 16 || sep == apiKey.Length - 1)
            throw new ApiAuthException(AuthProblem.MalformedKey, "an API key looks like scm_<16 hex keyId>_<secret>");
        var keyId = apiKey[Prefix.Length..sep];
        if (!keyId.All(char.IsAsciiHexDigitLower))
            throw new ApiAuthException(AuthProblem.MalformedKey, "an API key looks like scm_<16 hex keyId>_<secret>");
        return (keyId, apiKey[(sep + 1)..]);
    }

    /// <summary>The silo configuration line for a bootstrap admin key: "keyId:saltBase64:hashBase64".</summary>
    public static string HashLine(string keyId, byte[] salt, byte[] hash) => $"{keyId}:{Convert.ToBase64String(salt)}:{Convert.ToBase64String(hash)}";

    public static (string KeyId, byte[] Salt, byte[] Hash)? ParseHashLine(string? line)
    {
        if (string.IsNullOrWhiteSpace(line)) return null;
        var parts = line.Trim().Split(':');
        if (parts.Length != 3) throw new FormatException("Tenants:AdminKeyHash must be 'keyId:saltBase64:hashBase64' (see `scmctl tenant admin-key`)");
        return (parts[0], Convert.FromBase64String(parts[1]), Convert.FromBase64String(parts[2]));
    }
}
