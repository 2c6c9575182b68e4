/*
 * families.c - SkyPilot's default CPU instance families, which a CPU-only
 * alternative without an instance type is placed on (plan.c).
 *
 * SkyPilot chooses CPU work's instance type among a few current x86
 * families per cloud (sky/catalog/{aws,gcp,azure}_catalog.py and OCI's
 * config, _DEFAULT_INSTANCE_FAMILY): general purpose, memory optimised and
 * compute optimised.  Keeping to them keeps a task off ARM instances (its
 * x86 image would not boot there) and off promotional or retired sizes.
 * Clouds without such a list (lambda, nebius, others) keep every offer.
 * When no default family fits (cpus: 1 exactly), plan.c lets other
 * families in, but never ARM ones (plan_cpu_arm).
 */
#include "plan.h"

#include <string.h>

/* AWS: the part before the '.' ("m6i" of "m6i.2xlarge"). */
static int aws_family(const char *it)
{
    static const char *const fams[] = {"m6i", "m6id", "m7i", "r6i", "r6id",
                                       "r7i", "c6i",  "c6id", "c7i", NULL};
    const char *dot = strchr(it, '.');

    for (size_t i = 0; dot && fams[i]; i++) {
        if (strlen(fams[i]) == (size_t)(dot - it) && strncmp(it, fams[i], (size_t)(dot - it)) == 0)
            return 1;
    }
    return 0;
}

/* GCP: a prefix "n2-standard-", ... */
static int gcp_family(const char *it)
{
    static const char *const fams[] = {"n2-standard-", "n2-highmem-", "n2-highcpu-",
                                       "n4-standard-", "n4-highmem-", "n4-highcpu-", NULL};

    for (size_t i = 0; fams[i]; i++) {
        if (strncmp(it, fams[i], strlen(fams[i])) == 0)
            return 1;
    }
    return 0;
}

/* Azure: the size's family as SkyPilot derives it, letters before the vCPU
 * count plus what follows it ("Standard_D8s_v5" -> "Ds_v5"; a constrained
 * size "E8-4s_v5" -> "E_s_v5", which is none of them). */
static int azure_family(const char *it)
{
    static const char *const fams[] = {"Ds_v5", "Es_v5", "Fs_v2", NULL};
    char fam[64];
    size_t letters, digits, n;
    const char *rest;

    if (strncmp(it, "Standard_", 9) != 0)
        return 0;
    it += 9;
    letters = strspn(it, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
    digits = strspn(it + letters, "0123456789");
    rest = it + letters + digits;
    if (letters == 0 || digits == 0 || *rest == '-' || letters >= sizeof(fam))
        return 0;
    memcpy(fam, it, letters);
    n = strlen(rest);
    if (n >= 6 && strcmp(rest + n - 6, "_Promo") == 0)
        n -= 6;
    if (letters + n >= sizeof(fam))
        return 0;
    memcpy(fam + letters, rest, n);
    fam[letters + n] = '\0';
    for (size_t i = 0; fams[i]; i++) {
        if (strcmp(fam, fams[i]) == 0)
            return 1;
    }
    return 0;
}

int plan_cpu_default_family(const char *cloud, const char *instance_type)
{
    if (strcmp(cloud, "aws") == 0)
        return aws_family(instance_type);
    if (strcmp(cloud, "gcp") == 0)
        return gcp_family(instance_type);
    if (strcmp(cloud, "azure") == 0)
        return azure_family(instance_type);
    if (strcmp(cloud, "oci") == 0) /* AMD E-series and Intel Standard3 */
        return strncmp(instance_type, "VM.Standard.E", 13) == 0 ||
               strncmp(instance_type, "VM.Standard3.", 13) == 0;
    return 1;
}

/* AWS Graviton: a family whose generation digit is followed by 'g'
 * ("m7g", "c6gn", "r8gd", "t4g", "x2gd", "im4gn", "is4gen"). */
static int aws_arm(const char *it)
{
    const char *dot = strchr(it, '.'), *p = it;

    while (p < (dot ? dot : it) && !(*p >= '0' && *p <= '9'))
        p++;
    while (p < (dot ? dot : it) && *p >= '0' && *p <= '9')
        p++;
    return dot != NULL && p < dot && *p == 'g';
}

/* Azure: a 'p' among the feature letters after the vCPU count
 * ("Standard_D8ps_v5", "Standard_E4pds_v6", "Standard_D2pls_v5"). */
static int azure_arm(const char *it)
{
    const char *p, *end;

    if (strncmp(it, "Standard_", 9) != 0)
        return 0;
    p = it + 9 + strspn(it + 9, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
    p += strspn(p, "0123456789");
    if (*p == '-')
        p += 1 + strspn(p + 1, "0123456789");
    end = strchr(p, '_');
    for (; *p && (end == NULL || p < end); p++) {
        if (*p == 'p')
            return 1;
    }
    return 0;
}

int plan_cpu_arm(const char *cloud, const char *instance_type)
{
    if (strcmp(cloud, "aws") == 0)
        return aws_arm(instance_type);
    if (strcmp(cloud, "gcp") == 0)
        return strncmp(instance_type, "t2a-", 4) == 0 || strncmp(instance_type, "c4a-", 4) == 0;
    if (strcmp(cloud, "azure") == 0)
        return azure_arm(instance_type);
    if (strcmp(cloud, "oci") == 0) /* Ampere A1/A2/A4 shapes */
        return strncmp(instance_type, "VM.Standard.A", 13) == 0 ||
               strncmp(instance_type, "BM.Standard.A", 13) == 0;
    return 0;
}
