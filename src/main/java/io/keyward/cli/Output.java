package io.keyward.cli;

import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/** Text for people, JSON for machines: the --output option. */
enum Output {
    TEXT, JSON;

    static final JsonMapper JSON_MAPPER = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    /** An instant for a table: "2026-01-31 04:30:00Z", without fractions of a second. */
    static String time(Object instant) {
        return instant.toString().replace("T", " ").replaceAll("\\.\\d+", "");
    }
}
