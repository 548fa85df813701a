namespace Grains.Models;

public sealed class UnknownModelException(string modelId, IEnumerable<string> known)
    : Exception($"modelId: unknown model '{modelId}'; registered: {string.Join(", ", known.Order())}");
