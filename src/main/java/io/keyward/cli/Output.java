package io.keyward.cli;

import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/** Text for people, JSON for machines: the --output option. */
enum Output {
    TEXT, JSON;

    static final JsonMapper JSON_MAPPER = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
}
