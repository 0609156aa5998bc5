#ifndef SHOAL_CZEROMQ_SHIM_H
#define SHOAL_CZEROMQ_SHIM_H
#include <zmq.h>
#endif
