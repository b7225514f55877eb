// Asks Glance about an image with the official OpenAI Java SDK (com.openai:openai-java), streamed.
// A single-file program, not built with the project:
//   java -cp "$(cat sdk-classpath.txt)" examples/OpenAiClient.java IMAGE [QUESTION]
// where the class path holds openai-java and its dependencies (for example from
//   mvn dependency:build-classpath -Dmdep.outputFile=sdk-classpath.txt in a project that uses it).
// The server address comes from GLANCE_URL (default http://127.0.0.1:8080).

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionContentPart;
import com.openai.models.chat.completions.ChatCompletionContentPartImage;
import com.openai.models.chat.completions.ChatCompletionContentPartText;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;

public class OpenAiClient {
  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println("usage: OpenAiClient IMAGE [QUESTION]");
      System.exit(2);
    }
    String url = System.getenv().getOrDefault("GLANCE_URL", "http://127.0.0.1:8080");
    String question = args.length > 1 ? args[1] : "What is in this picture?";
    String image = "data:image/png;base64," + Base64.getEncoder().encodeToString(Files.readAllBytes(Path.of(args[0])));

    // Glance needs no API key; the SDK insists on one.
    OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(url + "/v1").apiKey("none").build();
    String model = client.models().list().data().getFirst().id();
    ChatCompletionCreateParams params = ChatCompletionCreateParams.builder()
        .model(model)
        .maxCompletionTokens(256)
        .temperature(0.0)
        .addUserMessageOfArrayOfContentParts(List.of(
            ChatCompletionContentPart.ofImageUrl(ChatCompletionContentPartImage.builder()
                .imageUrl(ChatCompletionContentPartImage.ImageUrl.builder().url(image).build()).build()),
            ChatCompletionContentPart.ofText(ChatCompletionContentPartText.builder().text(question).build())))
        .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build())
        .build();
    try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
      stream.stream().forEach(chunk -> {
        for (ChatCompletionChunk.Choice choice : chunk.choices()) {
          // The model's thinking arrives as reasoning_content, an extension field.
          JsonValue thinking = choice.delta()._additionalProperties().get("reasoning_content");
          if (thinking != null) {
            System.err.print(thinking.convert(String.class));
          }
          choice.delta().content().ifPresent(System.out::print);
        }
        chunk.usage().ifPresent(u -> System.err.printf("%n[%d prompt tokens, %d generated]%n",
            u.promptTokens(), u.completionTokens()));
      });
    }
    System.out.println();
    client.close();
  }
}
