using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

// Sets VER_FLG_WEAK on one version-needed entry (.gnu.version_r) of an ELF64 little-endian library,
// but only when the host's libstdc++ lacks that version. See TorchSharpNative.targets for why.
public class RelaxGlibcxxRequirement : Task
{
    [Required] public ITaskItem[] Libraries { get; set; } = Array.Empty<ITaskItem>();
    [Required] public string Version { get; set; } = "";

    const uint ShtGnuVerneed = 0x6ffffffe;
    const ushort VerFlagWeak = 0x2;

    static readonly string[] HostLibstdcxxPaths =
    {
        "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6",
    };

    public override bool Execute()
    {
        string host = Array.Find(HostLibstdcxxPaths, File.Exists);
        if (host == null)
        {
            Log.LogMessage(MessageImportance.High, "TorchSharp natives: no host libstdc++ found; left as shipped.");
            return true;
        }
        if (Contains(File.ReadAllBytes(host), Encoding.ASCII.GetBytes(Version + "\0")))
            return true;
        foreach (var item in Libraries)
        {
            string path = item.ItemSpec;
            byte[] elf = File.ReadAllBytes(path);
            switch (MarkWeak(elf, Version))
            {
                case PatchResult.Patched:
                    File.WriteAllBytes(path, elf);
                    Log.LogMessage(MessageImportance.High, $"TorchSharp natives: marked {Version} weak in {path} (host {host} lacks it).");
                    break;
                case PatchResult.AlreadyWeak:
                    break;
                case PatchResult.NotFound:
                    Log.LogMessage(MessageImportance.Normal, $"TorchSharp natives: {path} does not require {Version}.");
                    break;
            }
        }
        return !Log.HasLoggedErrors;
    }

    enum PatchResult { Patched, AlreadyWeak, NotFound }

    static PatchResult MarkWeak(byte[] elf, string version)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException("not an ELF64 little-endian file");
        long shoff = BitConverter.ToInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A);
        int shnum = BitConverter.ToUInt16(elf, 0x3C);
        for (int i = 0; i < shnum; i++)
        {
            long sh = shoff + (long)i * shentsize;
            if (BitConverter.ToUInt32(elf, (int)sh + 4) != ShtGnuVerneed) continue;
            long offset = BitConverter.ToInt64(elf, (int)sh + 0x18);
            int link = (int)BitConverter.ToUInt32(elf, (int)sh + 0x28);
            int count = (int)BitConverter.ToUInt32(elf, (int)sh + 0x2C);
            long strtab = BitConverter.ToInt64(elf, (int)(shoff + (long)link * shentsize) + 0x18);

            long need = offset;
            for (int n = 0; n < count; n++)
            {
                int auxCount = BitConverter.ToUInt16(elf, (int)need + 2);
                long aux = need + BitConverter.ToUInt32(elf, (int)need + 8);
                for (int a = 0; a < auxCount; a++)
                {
                    long name = strtab + BitConverter.ToUInt32(elf, (int)aux + 8);
                    if (CStringEquals(elf, name, version))
                    {
                        ushort flags = BitConverter.ToUInt16(elf, (int)aux + 4);
                        if ((flags & VerFlagWeak) != 0) return PatchResult.AlreadyWeak;
                        BitConverter.GetBytes((ushort)(flags | VerFlagWeak)).CopyTo(elf, (int)aux + 4);
                        return PatchResult.Patched;
                    }
                    aux += BitConverter.ToUInt32(elf, (int)aux + 12);
                }
                need += BitConverter.ToUInt32(elf, (int)need + 12);
            }
        }
        return PatchResult.NotFound;
    }

    static bool CStringEquals(byte[] data, long at, string s)
    {
        for (int i = 0; i < s.Length; i++)
            if (data[at + i] != (byte)s[i]) return false;
        return data[at + s.Length] == 0;
    }

    static bool Contains(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
        {
            int j = 0;
            while (j < needle.Length && haystack[i + j] == needle[j]) j++;
            if (j == needle.Length) return true;
        }
        return false;
    }
}
