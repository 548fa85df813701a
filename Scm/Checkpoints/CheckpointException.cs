namespace Scm.Checkpoints;

/// <summary>A checkpoint that cannot be used; the message says which file and what is wrong.</summary>
public sealed class CheckpointException(string message, Exception? inner = null) : Exception(message, inner);
