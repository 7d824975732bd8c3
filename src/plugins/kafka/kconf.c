/* kconf.c - rd_kafka_conf_t helpers: checked property setting that keeps
 * secrets out of error messages, and the stderr log bridge. See kconf.h.
 *
 * The secret test is a case-insensitive substring search over the key,
 * O(len(key)) per set; configuration is set a few dozen times per client,
 * never on a hot path. The log bridge reads SL_KAFKA_DEBUG on every call:
 * getenv is cheap next to a log line and this keeps the bridge stateless
 * (no once-flag to race on between librdkafka's threads).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "plugins/kafka/kconf.h"

static int sl_kconf_contains_ci(const char *s, const char *needle)
{
    size_t n = strlen(needle);
    for (; *s; s++) {
        size_t i = 0;
        while (i < n && s[i] && tolower((unsigned char)s[i]) == needle[i])
            i++;
        if (i == n) return 1;
    }
    return 0;
}

int sl_kconf_is_secret(const char *key)
{
    if (!key) return 0;
    return sl_kconf_contains_ci(key, "password") || sl_kconf_contains_ci(key, "secret") ||
           sl_kconf_contains_ci(key, "sasl");
}

sl_err_t sl_kconf_set(rd_kafka_conf_t *c, const char *key, const char *value, sl_error *err)
{
    char es[512];
    if (!c || !key || !*key || !value)
        return sl_error_set(err, SL_ERR_INVALID, "kafka property '%s': %s", key ? key : "(null)",
                            value ? "no configuration" : "no value given");
    es[0] = '\0';
    rd_kafka_conf_res_t r = rd_kafka_conf_set(c, key, value, es, sizeof es);
    if (r == RD_KAFKA_CONF_OK) return SL_OK;
    if (sl_kconf_is_secret(key))
        return sl_error_set(err, SL_ERR_INVALID,
                            "kafka property '%s': value rejected by librdkafka (%s; the value is "
                            "not shown because the key looks secret)",
                            key, r == RD_KAFKA_CONF_UNKNOWN ? "unknown property" : "invalid value");
    if (r == RD_KAFKA_CONF_UNKNOWN)
        return sl_error_set(err, SL_ERR_INVALID,
                            "kafka property '%s': unknown to librdkafka %s (check the spelling "
                            "against CONFIGURATION.md of that version)",
                            key, rd_kafka_version_str());
    return sl_error_set(err, SL_ERR_INVALID, "kafka property '%s' = '%s': %s", key, value, es);
}

sl_err_t sl_kconf_set_props(rd_kafka_conf_t *c, const char *const *props, sl_error *err)
{
    if (!props) return SL_OK;
    for (size_t i = 0; props[i]; i += 2) {
        if (!props[i + 1])
            return sl_error_set(err, SL_ERR_INVALID,
                                "kafka property '%s' has no value (the list is key,value,...,NULL)",
                                props[i]);
        sl_err_t rc = sl_kconf_set(c, props[i], props[i + 1], err);
        if (rc) return rc;
    }
    return SL_OK;
}

void sl_kconf_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    /* syslog levels: 0-3 error, 4 warning, 5-6 info, 7 debug. librdkafka's
     * notices and info are client chatter: debug here, or with
     * SL_KAFKA_DEBUG=1 info. */
    const char *dbg = getenv("SL_KAFKA_DEBUG");
    sl_log_level lvl = level <= 3                 ? SL_LOG_ERROR
                       : level == 4               ? SL_LOG_WARN
                       : dbg && !strcmp(dbg, "1") ? SL_LOG_INFO
                                                  : SL_LOG_DEBUG;
    SL_LOG(lvl, "kafka client", SL_F_STR("facility", fac ? fac : "?"),
           SL_F_STR("detail", buf ? buf : ""));
}

void sl_kconf_logging(rd_kafka_conf_t *c)
{
    rd_kafka_conf_set_log_cb(c, sl_kconf_log_cb);
}
