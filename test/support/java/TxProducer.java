// A transactional producer as applications run one (kafka-clients' KafkaProducer with a
// transactional.id), held open by the test: it writes one transaction and leaves it open until
// the test says what to do with it.
//
//   java -cp '<kafka libs>/*' TxProducer.java <bootstrap> <topic> <transactional.id> <count> [partition] [value]
//
// Record i has key "k<i>" and the value {"n":<i>}, or `value` with every "{n}" replaced by i.
// Prints "OPEN <first offset>..<last offset>" once the records are written (flushed, acknowledged)
// and the transaction is still open; then reads a line on stdin: "commit" commits and prints
// "COMMITTED", "abort" (or the end of stdin) aborts and prints "ABORTED"; then it exits.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Future;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;

public class TxProducer {
    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            System.err.println("usage: TxProducer <bootstrap> <topic> <transactional.id> <count> [partition] [value]");
            System.exit(2);
        }
        String topic = args[1];
        int count = Integer.parseInt(args[3]);
        Integer partition = args.length > 4 && !args[4].isEmpty() ? Integer.valueOf(args[4]) : null;
        String template = args.length > 5 ? args[5] : "{\"n\":{n}}";

        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, args[2]);
        // The test decides when the transaction ends; the coordinator must not abort it first.
        props.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, "300000");
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());

        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
            producer.initTransactions();
            producer.beginTransaction();
            List<Future<RecordMetadata>> sent = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                sent.add(producer.send(new ProducerRecord<>(topic, partition, "k" + i, template.replace("{n}", String.valueOf(i)))));
            }
            producer.flush();
            long first = Long.MAX_VALUE, last = -1;
            for (Future<RecordMetadata> f : sent) {
                RecordMetadata m = f.get();
                first = Math.min(first, m.offset());
                last = Math.max(last, m.offset());
            }
            System.out.println("OPEN " + first + ".." + last);
            System.out.flush();

            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String line = in.readLine();
            if (line != null && line.trim().equals("commit")) {
                producer.commitTransaction();
                System.out.println("COMMITTED");
            } else {
                producer.abortTransaction();
                System.out.println("ABORTED");
            }
            System.out.flush();
        }
    }
}
