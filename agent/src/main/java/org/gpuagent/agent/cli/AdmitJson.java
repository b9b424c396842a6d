package org.gpuagent.agent.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.StringWriter;

/**
 * The admission request and the fields of its answer, with jackson-core's streaming parser and
 * generator: an admission is on a service's start path, and jackson-jr's object mapping costs
 * tens of milliseconds of class loading that these few fields do not need.
 */
final class AdmitJson {
    private static final JsonFactory FACTORY = new JsonFactory();

    private AdmitJson() {
    }

    static String request(Admitter.Request r) throws IOException {
        StringWriter w = new StringWriter(128);
        try (JsonGenerator g = FACTORY.createGenerator(w)) {
            g.writeStartObject();
            g.writeStringField("service", r.service());
            if (r.autoBytes()) {
                g.writeStringField("bytes", "auto");
            } else if (r.bytes().isPresent()) {
                g.writeNumberField("bytes", r.bytes().getAsLong());
            }
            if (r.signature().isPresent()) {
                g.writeStringField("signature", r.signature().get());
            }
            if (r.holder().isPresent()) {
                g.writeStringField("holder", r.holder().get());
            }
            if (!r.maxWait().isZero()) {
                g.writeNumberField("waitMs", r.maxWait().toMillis());
            }
            if (!r.pids().isEmpty()) {
                g.writeArrayFieldStart("pids");
                for (Long pid : r.pids()) {
                    g.writeNumber(pid);
                }
                g.writeEndArray();
            }
            g.writeEndObject();
        }
        return w.toString();
    }

    /** What the CLI prints of an answer: the lease id on success, the message on failure. */
    record Answer(String leaseId, String error, String message) {
    }

    /** Reads {@code lease.id}, {@code error} and {@code message}; a body that is not JSON gives nulls. */
    static Answer answer(String body) {
        String id = null;
        String error = null;
        String message = null;
        try (JsonParser p = FACTORY.createParser(body)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return new Answer(null, null, null);
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken t = p.nextToken();
                if (field.equals("lease") && t == JsonToken.START_OBJECT) {
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String f = p.currentName();
                        JsonToken v = p.nextToken();
                        if (f.equals("id") && v.isScalarValue()) {
                            id = p.getText();
                        } else {
                            p.skipChildren();
                        }
                    }
                } else if (field.equals("error") && t == JsonToken.VALUE_STRING) {
                    error = p.getText();
                } else if (field.equals("message") && t == JsonToken.VALUE_STRING) {
                    message = p.getText();
                } else {
                    p.skipChildren();
                }
            }
        } catch (IOException e) {
            return new Answer(id, error, message);
        }
        return new Answer(id, error, message);
    }
}
