/* The bare-libzmq reference for the shard throughput benchmark: one PUSH
 * sends N messages of SIZE bytes to one PULL over tcp on loopback, in two
 * threads of one process; prints MB/s of payload received. With a FILE
 * argument the receiver also writes what it gets there, as a worker must. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

static const char *endpoint = "tcp://127.0.0.1:47913";
static int count, size;

static void *pusher(void *context) {
    void *push = zmq_socket(context, ZMQ_PUSH);
    zmq_connect(push, endpoint);
    char *buffer = malloc(size);
    memset(buffer, 'x', size);
    for (int i = 0; i < count; i++) zmq_send(push, buffer, size, 0);
    free(buffer);
    zmq_close(push);
    return NULL;
}

int main(int argc, char **argv) {
    count = argc > 1 ? atoi(argv[1]) : 512;
    size = argc > 2 ? atoi(argv[2]) : 1 << 20;
    FILE *sink = argc > 3 ? fopen(argv[3], "wb") : NULL;
    void *context = zmq_ctx_new();
    void *pull = zmq_socket(context, ZMQ_PULL);
    if (zmq_bind(pull, endpoint) != 0) { fprintf(stderr, "bind %s: %s\n", endpoint, zmq_strerror(zmq_errno())); return 1; }
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    pthread_t thread;
    pthread_create(&thread, NULL, pusher, context);
    zmq_msg_t message;
    zmq_msg_init(&message);
    long long received = 0;
    for (int i = 0; i < count; i++) {
        received += zmq_msg_recv(&message, pull, 0);
        if (sink) fwrite(zmq_msg_data(&message), 1, zmq_msg_size(&message), sink);
    }
    if (sink) fclose(sink);
    clock_gettime(CLOCK_MONOTONIC, &end);
    pthread_join(thread, NULL);
    double seconds = (end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9;
    printf("%.1f\n", received / 1e6 / seconds);
    zmq_msg_close(&message);
    zmq_close(pull);
    zmq_ctx_term(context);
    return 0;
}
