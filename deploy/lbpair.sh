# The redundant front door of the cluster stack, sourced by cluster.sh: two
# HAProxy, each in a network namespace of its own standing in for a host,
# and keepalived in each moving one virtual address (VRRP) to whichever
# HAProxy is alive. One bridge joins the "hosts" to this machine:
#
#   thr-lb0 (bridge, here)  10.231.0.1/24   the webd listen here too
#   throng-lb-a (netns)     10.231.0.11     haproxy-a + keepalived-a (priority 150)
#   throng-lb-b (netns)     10.231.0.12     haproxy-b + keepalived-b (priority 100)
#   VIP                     10.231.0.10:$HTTP_PORT  held by the live pair member
#
# Clients of the pair need an address of this machine on the bridge's side:
# 10.231.128.0/17 is routed locally (any of its addresses can be bound, as
# 127/8 can), and the namespaces route it back through 10.231.0.1; the
# chaos run gives each simulated user its own address from it.
#
# keepalived learns at once that its HAProxy exited (the shell that waits
# for it writes a file keepalived watches) and probes it every second in
# case it hangs; either way keepalived-a gives the address up and -b takes
# it, announcing it by gratuitous ARP. Measured with `bench chaos`: an
# error window of a few ms (the requests in flight in the killed HAProxy).

LB_NET=10.231.0
LB_BRIDGE=thr-lb0
LB_VIP=$LB_NET.10
LB_CLIENTS=10.231.128.0/17
LB_MEMBERS=(haproxy-a haproxy-b)
LB_KEEPALIVED=(keepalived-a keepalived-b)

lb_letter() { echo "${1##*-}"; }
lb_ns() { echo "throng-lb-$(lb_letter "$1")"; }
lb_addr() { # haproxy-a|keepalived-a → 10.231.0.11
    case $(lb_letter "$1") in a) echo "$LB_NET.11" ;; b) echo "$LB_NET.12" ;; esac
}

# The bridge, the two namespaces and their links; idempotent.
lb_net_up() {
    command -v ip >/dev/null || die "ip (iproute2) not found"
    if ! ip link show "$LB_BRIDGE" >/dev/null 2>&1; then
        ip link add "$LB_BRIDGE" type bridge
        ip addr add "$LB_NET.1/24" dev "$LB_BRIDGE"
        ip link set "$LB_BRIDGE" up
        # Believe a gratuitous ARP for the VIP at once, not only after a
        # second of no change (the default locktime): the new holder's
        # announcement then redirects this machine's clients at once.
        sysctl -qw "net.ipv4.neigh.$LB_BRIDGE.locktime=0"
    fi
    # Read whole before grep: with pipefail, grep -q leaving early would
    # fail the pipeline (SIGPIPE) and look like "not there".
    local routes
    routes=$(ip route show table local)
    grep -q "local $LB_CLIENTS" <<<"$routes" || ip route add local "$LB_CLIENTS" dev lo
    local m ns host
    for m in "${LB_MEMBERS[@]}"; do
        ns=$(lb_ns "$m") host=thr-lb$(lb_letter "$m")h
        [ -e "/run/netns/$ns" ] || ip netns add "$ns"
        if ! ip link show "$host" >/dev/null 2>&1; then
            ip link add "$host" type veth peer name eth0 netns "$ns"
            ip link set "$host" master "$LB_BRIDGE" up
            ip -n "$ns" link set lo up
            ip -n "$ns" addr add "$(lb_addr "$m")/24" dev eth0
            ip -n "$ns" link set eth0 up
            ip -n "$ns" route add "$LB_CLIENTS" via "$LB_NET.1"
            # HAProxy binds the VIP's port before it holds the VIP.
            ip netns exec "$ns" sysctl -qw net.ipv4.ip_nonlocal_bind=1
        fi
    done
}

lb_net_down() {
    local m
    for m in "${LB_MEMBERS[@]}"; do
        ip netns del "$(lb_ns "$m")" 2>/dev/null || true
    done
    ip link del "$LB_BRIDGE" 2>/dev/null || true
    ip route del local "$LB_CLIENTS" dev lo 2>/dev/null || true
}

lb_haproxy_start() { # haproxy-a|haproxy-b
    local name=$1 ns cfg
    if live_pid "$name" >/dev/null; then return 0; fi
    lb_net_up
    ns=$(lb_ns "$name") cfg=$C/$name/haproxy.cfg
    haproxy_conf "$name" "$LB_VIP:$HTTP_PORT" "$LB_NET.1" "$(lb_addr "$name")" "$(lb_addr "$name"):9101"
    haproxy -c -q -f "$cfg" || die "haproxy refuses $cfg"
    say "starting $name in $ns on $LB_VIP:$HTTP_PORT"
    # keepalived's track_file: 0 while this HAProxy runs, 1 the moment it
    # exits, written by the shell that waits for it (its parent: told at
    # once, and nothing is left a zombie that looks alive).
    local exited=$C/keepalived-$(lb_letter "$name")/haproxy-exited
    mkdir -p "${exited%/*}"
    echo 0 >"$exited"
    rm -f "$RUN/$name.pid"
    nohup bash -c 'ip netns exec "$1" haproxy -db -f "$2" & echo $! >"$3"; wait $!; echo 1 >"$4"' \
        _ "$ns" "$cfg" "$RUN/$name.pid" "$exited" >>"$LOGS/$name.log" 2>&1 &
    disown $! 2>/dev/null || true  # killed on purpose later: no job notices
    local i
    for ((i = 0; i < 50; i++)); do
        # Its stats port: the VIP's may belong to the other member now.
        ip netns exec "$ns" bash -c "echo >/dev/tcp/$(lb_addr "$name")/9101" 2>/dev/null && return 0
        sleep 0.1
    done
    die "$name did not start (log: $LOGS/$name.log)"
}

keepalived_conf() { # keepalived-a|keepalived-b
    local name=$1 letter peer priority
    letter=$(lb_letter "$name")
    if [ "$letter" = a ]; then peer=$LB_NET.12 priority=150; else peer=$LB_NET.11 priority=100; fi
    mkdir -p "$C/$name"
    cat >"$C/$name/keepalived.conf" <<CFG
# Generated by deploy/cluster.sh (deploy/lbpair.sh).
global_defs {
    router_id throng-lb-$letter
    # VRRP v3: adverts every 100 ms, so a silent master is replaced
    # within ~0.4 s (3 adverts and the skew).
    vrrp_version 3
    vrrp_garp_master_delay 1
    vrrp_garp_master_repeat 3
    script_user root
    enable_script_security
}

# Has this member's HAProxy exited? keepalived's own process tracking needs
# the kernel's process connector, which serves only the first network
# namespace; instead the script that starts HAProxy writes 0 here and a
# watcher writes 1 the moment it exits (inotify: no polling here).
track_file haproxy_${letter}_exited {
    file "$C/$name/haproxy-exited"
    weight 0
    init_file 1
}

# Is it answering? A hung HAProxy is found by a probe of its stats port,
# every second (keepalived's shortest interval).
vrrp_script haproxy_$letter {
    script "$C/$name/haproxy-alive"
    interval 1
    timeout 1
    fall 1
    rise 1
}

vrrp_instance throng_lb {
    # Both start as BACKUP and the address stays where it is when the
    # other comes back (nopreempt): moving it back would break every
    # connection through the member holding it a second time.
    state BACKUP
    nopreempt
    interface eth0
    virtual_router_id 51
    priority $priority
    advert_int 0.1
    unicast_src_ip $(lb_addr "$name")
    unicast_peer {
        $peer
    }
    virtual_ipaddress {
        $LB_VIP/24 dev eth0
    }
    # weight 0: a failed probe puts the instance in FAULT, which gives the
    # address up at once (a priority-0 advert tells the peer to take it).
    track_script {
        haproxy_$letter weight 0
    }
    track_file {
        haproxy_${letter}_exited weight 0
    }
}
CFG
    cat >"$C/$name/haproxy-alive" <<PROBE
#!/bin/bash
# Generated by deploy/cluster.sh: exit 0 while haproxy-$letter answers.
exec 3<>/dev/tcp/$(lb_addr "$name")/9101
PROBE
    chmod 700 "$C/$name/haproxy-alive"
}

keepalived_start() { # keepalived-a|keepalived-b
    local name=$1 ns
    if live_pid "$name" >/dev/null; then return 0; fi
    command -v keepalived >/dev/null || die "keepalived not found (deploy/deps.sh cluster)"
    lb_net_up
    ns=$(lb_ns "$name")
    keepalived_conf "$name"
    say "starting $name in $ns"
    nohup ip netns exec "$ns" keepalived --dont-fork --log-console --vrrp \
        --use-file "$C/$name/keepalived.conf" \
        --pid "$C/$name/keepalived.pid" --vrrp_pid "$C/$name/vrrp.pid" >>"$LOGS/$name.log" 2>&1 &
    echo $! >"$RUN/$name.pid"
    disown $! 2>/dev/null || true
}

# Which member holds the VIP now (nothing printed: neither).
lb_holder() {
    local m addrs
    for m in "${LB_MEMBERS[@]}"; do
        addrs=$(ip -n "$(lb_ns "$m")" -o addr show dev eth0 2>/dev/null || true)
        if grep -q " $LB_VIP/" <<<"$addrs"; then
            echo "$m"
            return 0
        fi
    done
    return 1
}

lb_up() {
    lb_net_up
    local name
    for name in "${LB_MEMBERS[@]}"; do lb_haproxy_start "$name"; done
    for name in "${LB_KEEPALIVED[@]}"; do keepalived_start "$name"; done
    local i
    for ((i = 0; i < 100; i++)); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://$LB_VIP:$HTTP_PORT/healthz")" = 200 ] && return 0
        sleep 0.1
    done
    die "the VRRP address $LB_VIP:$HTTP_PORT does not answer (logs: $LOGS/keepalived-*.log)"
}
