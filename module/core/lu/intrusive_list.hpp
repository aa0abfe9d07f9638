// SPDX-License-Identifier: GPL-2.0
// A doubly linked intrusive list: the node lives in the element, the list
// never allocates, and an element knows whether it is linked.
#pragma once

#include "lu/result.hpp"

namespace lu {

class ListNode {
public:
    ListNode() = default;
    ListNode(const ListNode&) = delete;
    ListNode& operator=(const ListNode&) = delete;
    ~ListNode() { LU_ASSERT(!is_linked()); }

    bool is_linked() const { return next_ != nullptr; }

private:
    template <typename T, ListNode T::*>
    friend class IntrusiveList;
    ListNode* prev_ = nullptr;
    ListNode* next_ = nullptr;
};

// Invariants: the sentinel's ring holds exactly the linked elements, in
// insertion order; the list does not own them.
template <typename T, ListNode T::*Member>
class IntrusiveList {
public:
    IntrusiveList() { head_.prev_ = head_.next_ = &head_; }
    IntrusiveList(const IntrusiveList&) = delete;
    IntrusiveList& operator=(const IntrusiveList&) = delete;
    ~IntrusiveList() {
        LU_ASSERT(is_empty());
        head_.prev_ = head_.next_ = nullptr;
    }

    bool is_empty() const { return head_.next_ == &head_; }
    usize size() const { return size_; }

    void push_back(T& item) {
        ListNode& node = item.*Member;
        LU_ASSERT(!node.is_linked());
        node.prev_ = head_.prev_;
        node.next_ = &head_;
        head_.prev_->next_ = &node;
        head_.prev_ = &node;
        size_++;
    }

    void remove(T& item) {
        ListNode& node = item.*Member;
        LU_ASSERT(node.is_linked());
        node.prev_->next_ = node.next_;
        node.next_->prev_ = node.prev_;
        node.prev_ = node.next_ = nullptr;
        size_--;
    }

    T* first() const { return is_empty() ? nullptr : owner(head_.next_); }
    T* last() const { return is_empty() ? nullptr : owner(head_.prev_); }

    class Iterator {
    public:
        Iterator(ListNode* node, const ListNode* head) : node_(node), head_(head) {}
        T& operator*() const { return *owner(node_); }
        // Advances before the caller touches the element, so the loop body
        // may unlink (not free) the current one.
        Iterator& operator++() {
            node_ = node_->next_;
            return *this;
        }
        bool operator!=(const Iterator& other) const { return node_ != other.node_; }

    private:
        ListNode* node_;
        const ListNode* head_;
    };
    Iterator begin() const { return Iterator(head_.next_, &head_); }
    Iterator end() const { return Iterator(const_cast<ListNode*>(&head_), &head_); }

    // Visits elements in reverse order (for rollbacks).
    template <typename Fn>
    void for_each_reverse(Fn fn) const {
        for (ListNode* node = head_.prev_; node != &head_;) {
            ListNode* prev = node->prev_;
            fn(*owner(node));
            node = prev;
        }
    }

private:
    static T* owner(const ListNode* node) {
        // The element that embeds `node` at Member.
        const usize offset = reinterpret_cast<usize>(&(static_cast<T*>(nullptr)->*Member));
        return reinterpret_cast<T*>(reinterpret_cast<uptr>(node) - offset);
    }

    ListNode head_;
    usize size_ = 0;
};

}  // namespace lu
